// How one step ended on one host, before it is counted and recorded.

import FlotillaSSH

struct StepOutcome: Sendable {
    var status: StepStatus
    var message: String?
    var exitStatus: ExitStatus?
    var files: [RunRecord.FileChange] = []
    /// What the failure means for the run's exit code.
    var exitClass: ExitClass = .success
    /// Failed, but `ignore_errors` lets the host go on.
    var ignored = false

    init(
        _ status: StepStatus, _ message: String? = nil, exitStatus: ExitStatus? = nil,
        exitClass: ExitClass? = nil
    ) {
        self.status = status
        self.message = message
        self.exitStatus = exitStatus
        switch status {
        case .failed: self.exitClass = exitClass ?? .stepFailed
        case .unreachable: self.exitClass = exitClass ?? .unreachable
        default: self.exitClass = exitClass ?? .success
        }
    }

    /// The host stops at this step.
    var stopsHost: Bool {
        if exitClass == .interrupted { return true }
        return (status == .failed && !ignored) || status == .unreachable
    }

    static func interrupted(_ what: String = "interrupted") -> StepOutcome {
        StepOutcome(.failed, what, exitClass: .interrupted)
    }

    /// A connection-level failure during a step.
    static func from(_ error: SSHError) -> StepOutcome {
        let exitClass = HostRun.exitClass(of: error)
        switch exitClass {
        case .unreachable:
            return StepOutcome(.unreachable, error.description, exitClass: .unreachable)
        default:
            return StepOutcome(.failed, error.description, exitClass: exitClass)
        }
    }
}

/// A value a step needs before it can go on, or the outcome that ends the step.
enum StepCheck<Value: Sendable>: Sendable {
    case value(Value)
    case stop(StepOutcome)
}
