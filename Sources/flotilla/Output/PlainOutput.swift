import FlotillaEngine
import FoundationEssentials
import Synchronization

/// Plain lines for logs and pipes. Every line a host causes starts with its alias:
/// `web-1 | text` for stdout and results, `web-1 ! text` for stderr; run-wide lines start
/// with `==`. A last line that had no newline ends with ` [no newline]`. Each line is
/// written whole, so hosts printing at once never share a line.
final class PlainOutput: RunOutput, @unchecked Sendable {
    static let partialMarker = " [no newline]"
    private let out: TextOutput
    private let verbosity: Verbosity
    private let lock = Mutex(())
    private var recentOutput = RecentOutput()

    init(out: TextOutput, verbosity: Verbosity) {
        self.out = out
        self.verbosity = verbosity
    }

    func note(_ text: String) {
        lock.withLock { _ in out.write(lines: ["== \(text)"]) }
    }

    func receive(_ event: RunEvent) {
        lock.withLock { _ in out.write(lines: lines(for: event)) }
    }

    /// An output line as plain text: `web-1 | text`, `web-1 ! text`.
    static func outputLine(
        host: String, stream: RunEvent.OutputStream, line: [UInt8], partial: Bool
    ) -> String {
        let mark = stream == .stdout ? "|" : "!"
        let text = String(decoding: line, as: UTF8.self)
        return "\(host) \(mark) \(text)" + (partial ? partialMarker : "")
    }

    /// `ok      code/upload the script (0.4s)`, and the message of a failure.
    static func stepResult(
        stage: String, step: String, status: StepStatus, message: String?, duration: Duration
    ) -> String {
        let label = status.rawValue.padded(toLength: 8)
        var text = "\(label)\(stage)/\(step) (\(duration.display))"
        if let message, status == .failed || status == .unreachable {
            text += ": \(message)"
        }
        return text
    }

    private func lines(for event: RunEvent) -> [String] {
        let host = event.host ?? "=="
        switch event.kind {
        case .runStarted(let runID, let playbook, let hosts, _, _, _):
            guard verbosity != .quiet else { return [] }
            return ["== run \(runID): \(playbook) on \(Plural.count(hosts.count, "host"))"]
        case .connecting:
            return []
        case .connected(let fingerprint, let duration):
            guard verbosity == .verbose else { return [] }
            return ["\(host) | connected in \(duration.display), host key \(fingerprint)"]
        case .unreachable(let message):
            return ["\(host) | unreachable: \(message)"]
        case .stageStarted(let stage, let hosts):
            guard verbosity != .quiet else { return [] }
            return ["== stage \(stage) on \(Plural.count(hosts.count, "host"))"]
        case .stepStarted(let stage, let step):
            recentOutput.stepStarted(on: host)
            guard verbosity == .verbose else { return [] }
            return ["\(host) | start   \(stage)/\(step)"]
        case .output(let stream, let line, let partial):
            let text = Self.outputLine(host: host, stream: stream, line: line, partial: partial)
            guard verbosity != .verbose else { return [text] }
            recentOutput.append(text, for: host)
            return []
        case .uploadProgress:
            return []
        case .stepFinished(let stage, let step, let status, let message, let duration):
            let result = "\(host) | " + Self.stepResult(
                stage: stage, step: step, status: status, message: message, duration: duration)
            let kept = recentOutput.take(for: host)
            switch status {
            case .failed, .unreachable:
                return [result] + kept
            case .ok, .changed, .skipped:
                return verbosity == .quiet ? [] : [result]
            }
        case .stageFinished, .hostFinished:
            return []
        case .runFinished(_, let summaries, let runFolder):
            return Recap(summaries: summaries, runFolder: runFolder).lines()
        }
    }
}
