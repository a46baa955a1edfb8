// What the engine tells the outputs while a run goes on. Every output (live view, plain
// lines, GitHub Actions, JSON, logs) listens to these and nothing else. Secret values are
// already redacted when an event is made.

import FoundationEssentials

/// How a step ended on one host.
public enum StepStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case ok
    case changed
    case skipped
    case failed
    case unreachable
}

/// What a host's run came to: counts per status, and why it stopped if it did.
public struct HostSummary: Sendable, Hashable, Codable {
    public var host: String
    /// `address:port`, IPv6 in brackets.
    public var address: String
    public var ok: Int
    public var changed: Int
    public var skipped: Int
    public var failed: Int
    public var unreachable: Int
    /// Failed steps that `ignore_errors` let pass; they do not make the run fail.
    public var ignored: Int
    /// Why the host stopped early, in one line, or nil if it finished.
    public var failure: String?

    public init(
        host: String, address: String, ok: Int = 0, changed: Int = 0, skipped: Int = 0,
        failed: Int = 0, unreachable: Int = 0, failure: String? = nil, ignored: Int = 0
    ) {
        self.host = host
        self.address = address
        self.ok = ok
        self.changed = changed
        self.skipped = skipped
        self.failed = failed
        self.unreachable = unreachable
        self.failure = failure
        self.ignored = ignored
    }
}

public struct RunEvent: Sendable {
    public enum Kind: Sendable {
        /// Before anything is contacted. `secrets` are the values outputs must mask (GitHub's
        /// `::add-mask::`); it is the only event that carries them.
        case runStarted(
            runID: String, playbook: String, hosts: [String], stages: [String],
            runFolder: String, secrets: [String])
        case connecting
        case connected(hostKeyFingerprint: String, duration: Duration)
        /// The host could not be reached, its key was refused, or authentication failed.
        case unreachable(message: String)
        case stageStarted(stage: String, hosts: [String])
        case stepStarted(stage: String, step: String)
        /// One line of a step's output, without its newline. `partial` marks a last line
        /// that had no newline, and each piece but the last of a line longer than 64 KiB,
        /// which comes in pieces so that memory stays bounded.
        case output(stream: OutputStream, line: [UInt8], partial: Bool)
        case uploadProgress(step: String, sent: Int, total: Int)
        case stepFinished(
            stage: String, step: String, status: StepStatus, message: String?,
            duration: Duration)
        case stageFinished(stage: String)
        case hostFinished(HostSummary)
        /// The run is over; `exitCode` follows PRODUCT §8.
        case runFinished(exitCode: Int32, summaries: [HostSummary], runFolder: String)
    }

    public enum OutputStream: String, Sendable, Codable { case stdout, stderr }

    public var time: Date
    /// The host it concerns; nil for run- and stage-wide events.
    public var host: String?
    public var kind: Kind

    public init(time: Date = Date(), host: String?, kind: Kind) {
        self.time = time
        self.host = host
        self.kind = kind
    }
}

/// Receives events. Called from the engine's tasks, possibly at the same time from
/// several hosts: implementations serialise their own output.
public protocol RunEventSink: Sendable {
    func receive(_ event: RunEvent)
}
