// Where every event of a run is made: texts and output are redacted here, the host's log
// gets its line, and the caller's sink gets the event. No sink ever sees a secret.

import FlotillaSSH
import FoundationEssentials

final class EventHub: Sendable {
    let sink: any RunEventSink
    let redactor: Redactor
    let log: RunLog

    init(sink: any RunEventSink, redactor: Redactor, log: RunLog) {
        self.sink = sink
        self.redactor = redactor
        self.log = log
    }

    func emit(_ host: String?, _ kind: RunEvent.Kind) {
        let event = RunEvent(host: host.map(redactor.redact), kind: redacted(kind))
        if let host = event.host, let text = Self.logText(event.kind) {
            log.write(host: host, time: event.time, text)
        }
        sink.receive(event)
    }

    /// A line of a step's output.
    func output(_ host: String, _ stream: RunEvent.OutputStream, _ line: [UInt8], partial: Bool) {
        let clean = redactor.redact(line)
        let event = RunEvent(
            host: host, kind: .output(stream: stream, line: clean, partial: partial))
        let label: [UInt8] = Array((stream == .stdout ? "out| " : "err| ").utf8)
        let suffix: [UInt8] = partial ? Array(" [no newline]".utf8) : []
        log.write(host: host, time: event.time, label + clean + suffix)
        sink.receive(event)
    }

    /// A line for the host's log only (the command as shown, probes).
    func note(_ host: String, _ text: String) {
        log.write(host: host, time: Date(), redactor.redact(text))
    }

    private func redacted(_ kind: RunEvent.Kind) -> RunEvent.Kind {
        let r = redactor
        switch kind {
        case .runStarted:
            // The one event that carries secrets, so outputs can mask them (`::add-mask::`).
            return kind
        case .connecting, .connected:
            return kind
        case .unreachable(let message):
            return .unreachable(message: r.redact(message))
        case .stageStarted(let stage, let hosts):
            return .stageStarted(stage: r.redact(stage), hosts: hosts.map(r.redact))
        case .stepStarted(let stage, let step):
            return .stepStarted(stage: r.redact(stage), step: r.redact(step))
        case .output(let stream, let line, let partial):
            return .output(stream: stream, line: r.redact(line), partial: partial)
        case .uploadProgress(let step, let sent, let total):
            return .uploadProgress(step: r.redact(step), sent: sent, total: total)
        case .stepFinished(let stage, let step, let status, let message, let duration):
            return .stepFinished(
                stage: r.redact(stage), step: r.redact(step), status: status,
                message: message.map(r.redact), duration: duration)
        case .stageFinished(let stage):
            return .stageFinished(stage: r.redact(stage))
        case .hostFinished(let summary):
            return .hostFinished(Self.redacted(summary, r))
        case .runFinished(let exitCode, let summaries, let runFolder):
            return .runFinished(
                exitCode: exitCode, summaries: summaries.map { Self.redacted($0, r) },
                runFolder: runFolder)
        }
    }

    static func redacted(_ summary: HostSummary, _ redactor: Redactor) -> HostSummary {
        var copy = summary
        copy.failure = summary.failure.map(redactor.redact)
        copy.host = redactor.redact(summary.host)
        copy.address = redactor.redact(summary.address)
        return copy
    }

    private static func logText(_ kind: RunEvent.Kind) -> String? {
        switch kind {
        case .connecting:
            return "connecting"
        case .connected(let fingerprint, let duration):
            return "connected in \(seconds(duration)) (host key \(fingerprint))"
        case .unreachable(let message):
            return "unreachable: \(message)"
        case .stepStarted(let stage, let step):
            return "step started: \(stage) / \(step)"
        case .stepFinished(let stage, let step, let status, let message, let duration):
            var text = "step finished: \(stage) / \(step): \(status.rawValue)"
            if let message { text += " (\(message))" }
            return text + " in \(seconds(duration))"
        case .hostFinished(let s):
            var text = "host finished: ok=\(s.ok) changed=\(s.changed) skipped=\(s.skipped)"
                + " failed=\(s.failed) unreachable=\(s.unreachable)"
            if let failure = s.failure { text += " (\(failure))" }
            return text
        case .uploadProgress, .output, .runStarted, .stageStarted, .stageFinished,
            .runFinished:
            return nil
        }
    }

    static func seconds(_ duration: Duration) -> String {
        let (s, atto) = duration.components
        let value = Double(s) + Double(atto) / 1e18
        return value.text(places: 2) + "s"
    }
}
