import FlotillaSupport
import FlotillaConfig
import FlotillaEngine
import FoundationEssentials
import Synchronization

/// GitHub Actions workflow commands: every secret masked before anything else is printed,
/// one collapsible group per host and stage, an `::error` annotation per failed step, and
/// the recap as a Markdown table in `$GITHUB_STEP_SUMMARY`.
///
/// Hosts run at the same time but a group must be contiguous, so each host's lines for a
/// stage are held and printed as one group when the host leaves the stage. Output lines keep
/// their `web-1 | ` prefix, so a remote line can never be taken for a workflow command.
final class GitHubOutput: RunOutput, @unchecked Sendable {
    private struct GroupKey: Hashable {
        var host: String
        var stage: String
    }

    private let out: TextOutput
    private let verbosity: Verbosity
    private let summaryPath: String?
    private let lock = Mutex(())
    /// Groups not yet printed, in the order they began.
    private var pending: [GroupKey] = []
    private var groups: [GroupKey: [String]] = [:]
    private var annotations: [GroupKey: [String]] = [:]
    private var currentStage: [String: String] = [:]
    private var playbook = "flotilla"

    /// Whether `::add-mask::` lines are written. Only a GitHub Actions runner hides what they
    /// register; anywhere else they would print each secret once in clear text.
    private let masksSecrets: Bool

    init(out: TextOutput, verbosity: Verbosity, summaryPath: String?, masksSecrets: Bool = true) {
        self.out = out
        self.verbosity = verbosity
        self.summaryPath = summaryPath
        self.masksSecrets = masksSecrets
    }

    func note(_ text: String) {
        lock.withLock { _ in out.write(lines: ["::notice::" + Self.escapeData(text)]) }
    }

    func receive(_ event: RunEvent) {
        lock.withLock { _ in handle(event) }
    }

    private func handle(_ event: RunEvent) {
        let host = event.host ?? ""
        switch event.kind {
        case .runStarted(let runID, let playbook, let hosts, _, _, let secrets):
            self.playbook = playbook
            if masksSecrets { out.write(lines: Self.maskCommands(for: secrets)) }
            guard verbosity != .quiet else { return }
            out.write(lines: ["flotilla run \(runID): \(playbook) on \(Plural.count(hosts.count, "host"))"])
        case .connecting, .uploadProgress, .stageStarted:
            break
        case .connected(let fingerprint, let duration):
            guard verbosity != .quiet else { return }
            out.write(lines: ["\(host) | connected in \(duration.display), key \(fingerprint)"])
        case .unreachable(let message):
            flush(host: host)
            out.write(lines: [
                "\(host) | unreachable: \(message)",
                Self.annotation(
                    "error", title: "\(host) unreachable", message: "host \(host): \(message)"),
            ])
        case .stepStarted(let stage, _):
            if let previous = currentStage[host], previous != stage {
                flush(GroupKey(host: host, stage: previous))
            }
            currentStage[host] = stage
            open(GroupKey(host: host, stage: stage))
        case .output(let stream, let line, let partial):
            guard verbosity != .quiet, let stage = currentStage[host] else { return }
            groups[GroupKey(host: host, stage: stage)]?.append(
                PlainOutput.outputLine(host: host, stream: stream, line: line, partial: partial))
        case .stepFinished(let stage, let step, let status, let message, let duration):
            let key = GroupKey(host: host, stage: stage)
            open(key)
            if verbosity != .quiet || status == .failed || status == .unreachable {
                groups[key]!.append("\(host) | " + PlainOutput.stepResult(
                    stage: stage, step: step, status: status, message: message,
                    duration: duration))
            }
            if status == .failed {
                let ignored = IgnoredFailure.matches(status: status, message: message)
                annotations[key, default: []].append(Self.annotation(
                    ignored ? "warning" : "error",
                    title: "\(host): \(stage)/\(step) " + (ignored ? "failed, ignored" : "failed"),
                    message: "host \(host), stage \(stage), step \(step): "
                        + (message ?? "failed")))
            }
        case .stageFinished(let stage):
            for key in pending where key.stage == stage {
                flush(key)
            }
        case .hostFinished:
            flush(host: host)
        case .runFinished(_, let summaries, let runFolder):
            for key in pending {
                flush(key)
            }
            let recap = Recap(summaries: summaries, runFolder: runFolder)
            out.write(lines: recap.lines())
            writeSummary(recap.markdown(title: "Flotilla: \(playbook)"))
        }
    }

    private func open(_ key: GroupKey) {
        guard groups[key] == nil else { return }
        groups[key] = []
        pending.append(key)
    }

    private func flush(host: String) {
        for key in pending where key.host == host {
            flush(key)
        }
    }

    /// Prints a held group and its annotations; the annotations follow the group so they
    /// stay visible when it is collapsed.
    private func flush(_ key: GroupKey) {
        guard let lines = groups.removeValue(forKey: key) else { return }
        pending.removeAll { $0 == key }
        guard !lines.isEmpty else { return }
        let title = "\(key.host) · \(key.stage)"
        out.write(lines: ["::group::" + Self.escapeData(title)] + lines + ["::endgroup::"])
        out.write(lines: annotations.removeValue(forKey: key) ?? [])
    }

    private func writeSummary(_ markdown: String) {
        guard let summaryPath, !summaryPath.isEmpty else { return }
        guard let summary = AppendingFile(path: summaryPath)
            ?? (FileManager.default.createFile(atPath: summaryPath, contents: nil)
                ? AppendingFile(path: summaryPath) : nil)
        else {
            out.write(lines: ["::warning::" + Self.escapeData(
                "could not write the step summary to \(summaryPath)")])
            return
        }
        summary.write(Array(markdown.utf8))
    }

    /// `::add-mask::` for each secret, and for each line of a multi-line one, since the
    /// runner masks line by line.
    static func maskCommands(for secrets: [String]) -> [String] {
        var values: [String] = []
        for secret in secrets where !secret.isEmpty {
            let parts = secret.split(whereSeparator: \.isNewline).map(String.init)
            for value in [secret] + (parts.count > 1 ? parts : [])
            where !value.trimmingBlanks().isEmpty && !values.contains(value)
            {
                values.append(value)
            }
        }
        return values.map { "::add-mask::" + escapeData($0) }
    }

    /// An input problem as an annotation on its file and line.
    static func annotation(for diagnostic: Diagnostic) -> String {
        let command = diagnostic.severity == .error ? "error" : diagnostic.severity.rawValue
        var properties: [String] = []
        if let location = diagnostic.location {
            properties = [
                "file=" + escapeProperty(location.file), "line=\(location.line)",
                "col=\(location.column)",
            ]
        }
        let head = properties.isEmpty ? "" : " " + properties.joined(separator: ",")
        return "::\(command)\(head)::\(escapeData(diagnostic.message))"
    }

    /// `::error` or `::warning` with a title.
    static func annotation(_ command: String, title: String, message: String) -> String {
        "::\(command) title=\(escapeProperty(title))::\(escapeData(message))"
    }

    /// A workflow command's message: `%`, CR and LF encoded as the runner expects.
    static func escapeData(_ text: String) -> String {
        text.replacingEvery("%", with: "%25")
            .replacingEvery("\r", with: "%0D")
            .replacingEvery("\n", with: "%0A")
    }

    /// A workflow command's property value: also `:` and `,`.
    static func escapeProperty(_ text: String) -> String {
        escapeData(text)
            .replacingEvery(":", with: "%3A")
            .replacingEvery(",", with: "%2C")
    }
}
