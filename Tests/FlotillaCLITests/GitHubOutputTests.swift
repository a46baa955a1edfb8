import FlotillaEngine
import Foundation
import Testing

@testable import flotilla

@Suite struct GitHubOutputTests {
    /// `--output github` outside a runner: the masks would print each secret in clear text.
    @Test func outsideGitHubActionsNoSecretIsPrintedAsAMask() async throws {
        let out = TextOutput()
        let output = GitHubOutput(
            out: out, verbosity: .normal, summaryPath: nil, masksSecrets: false)
        let run = SyntheticRun(hosts: ["web-1"], failing: [], secrets: ["hunter2-token"])
        output.receive(run.start())
        for event in run.hostEvents("web-1") { output.receive(event) }
        output.receive(run.finish())
        #expect(!out.text.contains("::add-mask::"))
        #expect(!out.text.contains("hunter2-token"))
    }

    @Test func aFailedRunMasksFirstGroupsEachHostAnnotatesFailuresAndWritesTheSummary() async throws {
        let summary = FileManager.default.temporaryDirectory
            .appendingPathComponent("flotilla-summary-\(UUID().uuidString).md").path
        defer { unlink(summary) }
        let out = TextOutput()
        let output = GitHubOutput(out: out, verbosity: .normal, summaryPath: summary)
        let run = SyntheticRun(
            hosts: ["web-1", "web-2", "web-3"], failing: ["web-2", "web-3"],
            secrets: ["hunter2-token", "100%:done"])

        // Hosts interleave, as they do in a real run.
        output.receive(run.start())
        let streams = run.hosts.map(run.hostEvents)
        for index in 0..<streams[0].count {
            for stream in streams { output.receive(stream[index]) }
        }
        output.receive(RunEvent(host: nil, kind: .stageFinished(stage: "deploy")))
        output.receive(run.finish())

        let log = GitHubLog(out.text)
        log.check(secrets: ["hunter2-token"])
        #expect(log.masks == ["::add-mask::hunter2-token", "::add-mask::100%25:done"])
        #expect(log.annotations == [
            "::error title=web-2%3A deploy/migrate failed::host web-2, stage deploy, "
                + "step migrate: exited with status 2",
            "::error title=web-3%3A deploy/migrate failed::host web-3, stage deploy, "
                + "step migrate: exited with status 2",
        ])
        #expect(log.lines.filter { $0.hasPrefix("::group::") } == [
            "::group::web-1 · deploy", "::group::web-2 · deploy", "::group::web-3 · deploy",
        ])
        // A host's group holds its own lines only, in order.
        let web2 = log.lines.firstIndex(of: "::group::web-2 · deploy")!
        #expect(Array(log.lines[(web2 + 1)...(web2 + 5)]) == [
            "web-2 | changed deploy/upload (0.4s)",
            "web-2 | web-2 applying 3 migrations",
            "web-2 ! web-2 warning: slow [no newline]",
            "web-2 | failed  deploy/migrate (2.0s): exited with status 2",
            "::endgroup::",
        ])

        let markdown = try String(contentsOfFile: summary, encoding: .utf8)
        #expect(markdown.contains(
            "| host | ok | changed | skipped | failed | unreachable | ignored | reason |"))
        #expect(markdown.contains("| web-1 | 1 | 1 | 0 | 0 | 0 | 0 |  |"))
        #expect(markdown.contains(
            "| web-2 | 0 | 1 | 0 | 1 | 0 | 0 | deploy/migrate: exited with status 2 |"))
    }

    @Test func workflowCommandValuesEscapePercentAndLineBreaks() {
        #expect(GitHubOutput.escapeData("50% done\r\nnext") == "50%25 done%0D%0Anext")
        #expect(GitHubOutput.escapeProperty("a:b,c") == "a%3Ab%2Cc")
        #expect(GitHubOutput.maskCommands(for: ["line one\nline two"]) == [
            "::add-mask::line one%0Aline two", "::add-mask::line one",
            "::add-mask::line two",
        ])
    }
}

@Suite struct GitHubQuietTests {
    @Test func quietKeepsOnlyGroupsOfFailuresTheirAnnotationsAndTheRecap() {
        let out = TextOutput()
        let output = GitHubOutput(out: out, verbosity: .quiet, summaryPath: nil)
        SyntheticRun(hosts: ["web-1", "web-2"], failing: ["web-2"], secrets: ["tok"])
            .allEvents().forEach(output.receive)

        let log = GitHubLog(out.text)
        log.check(secrets: ["tok"])
        #expect(Array(log.lines.prefix(5)) == [
            "::add-mask::tok",
            "::group::web-2 · deploy",
            "web-2 | failed  deploy/migrate (2.0s): exited with status 2",
            "::endgroup::",
            "::error title=web-2%3A deploy/migrate failed::host web-2, stage deploy, "
                + "step migrate: exited with status 2",
        ])
        #expect(out.text.contains("RECAP"))
        #expect(!out.text.contains("web-1 |"))
    }
}

@Suite struct GitHubIgnoredFailureTests {
    @Test func aFailureThatIgnoreErrorsLetPassIsAWarningNotAnError() {
        let out = TextOutput()
        let output = GitHubOutput(out: out, verbosity: .normal, summaryPath: nil)
        let run = SyntheticRun(hosts: ["web-1"])
        output.receive(run.start())
        output.receive(RunEvent(host: "web-1", kind: .stepStarted(stage: "s", step: "probe")))
        output.receive(RunEvent(host: "web-1", kind: .stepFinished(
            stage: "s", step: "probe", status: .failed,
            message: "ignored: exited with status 1", duration: .seconds(1))))
        output.receive(RunEvent(host: nil, kind: .stageFinished(stage: "s")))
        output.receive(run.finish())

        let log = GitHubLog(out.text)
        #expect(log.annotations.isEmpty)
        #expect(log.lines.contains(
            "::warning title=web-1%3A s/probe failed%2C ignored::host web-1, stage s, "
                + "step probe: ignored: exited with status 1"))
    }
}
