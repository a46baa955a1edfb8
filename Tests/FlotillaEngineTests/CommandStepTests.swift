import FlotillaConfig
import Foundation
import Testing

@testable import FlotillaEngine

@Suite struct CommandStepTests {
    /// Runs one step on one local host and returns the step's status and message.
    private func outcome(
        of step: ResolvedStep, path: [String] = [], setUp: (String) throws -> Void = { _ in }
    ) async throws -> (StepStatus, String?, RunOutcome, EventLog, log: String) {
        let fleet = try TestFleet(count: 1, path: path)
        defer { fleet.remove() }
        try setUp(fleet.home("web-1"))
        let sink = EventLog()
        let outcome = await fleet.run(fleet.plans([("s", { _ in [step] })]), sink: sink)
        let finished = try #require(sink.finishedSteps.first)
        let log = read(outcome.runFolder + "/web-1.log") ?? ""
        return (finished.status, finished.message, outcome, sink, log)
    }

    @Test func aMultiLineRunFailsOnItsFirstFailingLineAndNamesIt() async throws {
        let script = "echo start\ntrue\ncp /nonexistent/a /tmp/b\necho never > \"$HOME/after\""
        let (status, message, outcome, sink, _) = try await outcome(of: run(script))
        #expect(status == .failed)
        #expect(message == "line 3 failed (exit 1): cp /nonexistent/a /tmp/b")
        #expect(outcome.exitCode == 1)
        // Standard output and error travel apart, so only each stream's order is certain.
        let lines = sink.output(of: "web-1")
        #expect(lines.filter { !$0.hasPrefix("cp: ") } == ["start"], "\(lines)")
        #expect(lines.contains { $0.hasPrefix("cp: cannot stat '/nonexistent/a'") })
        #expect(!lines.contains { $0.contains("@@FL") })
    }

    @Test func exitCode127IsReportedAsCommandNotFoundWithThePath() async throws {
        let (status, message, _, _, _) = try await outcome(of: run("flotilla-no-such-tool --v"))
        #expect(status == .failed)
        #expect(message == "command not found (exit 127): flotilla-no-such-tool --v;"
            + " PATH was /usr/local/bin:/usr/bin:/bin; tools installed per user (nvm) need"
            + " `path` in the inventory")
    }

    /// R30: a tool installed per user, with an `#!/usr/bin/env node` shebang, resolves once
    /// the inventory's `path` is prepended.
    @Test func theInventoryPathIsPrependedSoEnvShebangsResolve() async throws {
        let install: (String) throws -> Void = { home in
            let bin = home + "/.nvm/versions/node/v20/bin"
            try FileManager.default.createDirectory(
                atPath: bin, withIntermediateDirectories: true)
            try "#!/bin/sh\nexec /bin/sh \"$@\"\n".write(
                toFile: bin + "/fakenode", atomically: true, encoding: .utf8)
            try "#!/usr/bin/env fakenode\necho built\n".write(
                toFile: bin + "/pnpm", atomically: true, encoding: .utf8)
            for tool in ["fakenode", "pnpm"] {
                try FileManager.default.setAttributes(
                    [.posixPermissions: 0o755], ofItemAtPath: bin + "/" + tool)
            }
        }
        let (without, _, _, _, _) = try await outcome(of: run("pnpm build"), setUp: install)
        #expect(without == .failed)
        let (with, _, _, sink, _) = try await outcome(
            of: run("pnpm build"), path: ["~/.nvm/versions/node/v20/bin"], setUp: install)
        #expect(with == .changed)
        #expect(sink.output(of: "web-1") == ["built"])
    }

    @Test func cwdAndEnvReachTheCommand() async throws {
        var step = run("printf '%s %s\\n' \"$(pwd)\" \"$GREETING\"")
        step.cwd = "/tmp"
        step.env = ["GREETING": "it's \"quoted\" $HOME"]
        let (status, _, _, sink, _) = try await outcome(of: step)
        #expect(status == .changed)
        #expect(sink.output(of: "web-1") == ["/tmp it's \"quoted\" $HOME"])
    }

    @Test func aMissingFolderIsReportedByName() async throws {
        var step = run("true")
        step.cwd = "/nonexistent-flotilla"
        let (status, message, _, _, _) = try await outcome(of: step)
        #expect(status == .failed)
        #expect(message == "cannot change to folder /nonexistent-flotilla on web-1")
    }

    @Test func createsSkipsWhenThePathExistsAndUnlessWhenTheCommandSucceeds() async throws {
        var creates = run("exit 1")
        creates.creates = "~/marker"
        let (first, message, _, _, _) = try await outcome(of: creates) { home in
            FileManager.default.createFile(atPath: home + "/marker", contents: nil)
        }
        #expect(first == .skipped)
        #expect(message == "~/marker exists")

        var unless = run("exit 1")
        unless.unless = "test 1 = 1"
        let (second, _, _, _, _) = try await outcome(of: unless)
        #expect(second == .skipped)

        var runs = run("true")
        runs.unless = "test 1 = 2"
        let (third, _, _, _, _) = try await outcome(of: runs)
        #expect(third == .changed)
    }

    @Test func aStepNotSelectedByWhenIsSkipped() async throws {
        var step = run("exit 1")
        step.selected = false
        let (status, _, outcome, _, _) = try await outcome(of: step)
        #expect(status == .skipped)
        #expect(outcome.exitCode == 0)
    }

    @Test func retriesRunTheStepAgainUntilItSucceeds() async throws {
        var step = run("echo x >> \"$HOME/tries\"; test $(wc -l < \"$HOME/tries\") -ge 3")
        step.retries = 4
        step.delay = .milliseconds(10)
        let (status, message, _, _, _) = try await outcome(of: step)
        #expect(status == .changed)
        #expect(message == "(after 3 attempts)")
    }

    @Test func ignoredErrorsLetTheHostGoOnAndTheRunSucceed() async throws {
        let fleet = try TestFleet(count: 1)
        defer { fleet.remove() }
        var failing = run("exit 2")
        failing.ignoreErrors = true
        let plans = fleet.plans([("s", { _ in [failing, run("touch \"$HOME/after\"")] })])
        let outcome = await fleet.run(plans)
        #expect(outcome.exitCode == 0)
        #expect(FileManager.default.fileExists(atPath: fleet.home("web-1") + "/after"))
        #expect(outcome.summaries[0].ignored == 1 && outcome.summaries[0].failed == 0)
        let first = try #require(outcome.record?.hosts[0].stages[0].steps[0])
        #expect(first.ignored && first.status == .failed)
        #expect(first.message == "ignored: exited with status 2")
    }

    @Test func aTimeoutEndsTheCommandAndExitsFour() async throws {
        var step = run("sleep 120")
        step.timeout = .seconds(1)
        let clock = ContinuousClock()
        let start = clock.now
        let (status, message, outcome, _, _) = try await outcome(of: step)
        // Far below the 120s the command would take, even on a busy machine.
        #expect(clock.now - start < .seconds(60))
        #expect(status == .failed)
        #expect(message == "timed out after 1s; the command was terminated")
        #expect(outcome.exitCode == 4)
    }

    /// R24: a command killed by a signal is a failure, never a success.
    @Test func aCommandKilledByASignalFails() async throws {
        // KILL, since the test runner may hand its children a blocked SIGTERM.
        let (status, message, _, _, _) = try await outcome(of: run("kill -KILL $$"))
        #expect(status == .failed)
        #expect(message == "terminated by SIGKILL")
    }

    /// R25: output is split into whole lines, a last line without newline is marked partial.
    @Test func outputArrivesAsWholeLinesWithThePartialLastLineMarked() async throws {
        let script = "for i in 1 2 3; do printf 'li'; sleep 0.05; echo \"ne$i\"; done;"
            + " printf 'tail-without-newline'"
        let (_, _, _, sink, log) = try await outcome(of: run(script))
        let lines = sink.all.compactMap { event -> (String, Bool)? in
            guard case .output(.stdout, let line, let partial) = event.kind else { return nil }
            return (String(decoding: line, as: UTF8.self), partial)
        }
        #expect(lines.map(\.0) == ["line1", "line2", "line3", "tail-without-newline"])
        #expect(lines.map(\.1) == [false, false, false, true])
        #expect(log.contains("out| line2\n"))
        #expect(log.contains("out| tail-without-newline [no newline]\n"))
        #expect(log.contains(" exit status: exited with status 0\n"))
        #expect(log.contains(" $ for i in 1 2 3; do printf 'li';"))
    }

    @Test func aScriptIsUploadedRunWithItsArgumentsAndRemoved() async throws {
        let fleet = try TestFleet(count: 1)
        defer { fleet.remove() }
        let body = "#!/bin/sh\necho \"args: $1 $2\"\necho \"from $0\" >&2\n"
        let script = step(
            .script(localPath: "files/check.sh", contents: Array(body.utf8), args: "one 'two'"),
            name: "script")
        let sink = EventLog()
        let outcome = await fleet.run(fleet.plans([("s", { _ in [script] })]), sink: sink)
        #expect(outcome.exitCode == 0)
        // One line on stdout, one on stderr: the two streams keep no order between them.
        let lines = sink.output(of: "web-1")
        #expect(lines.contains("args: one two"))
        let path = try #require(
            lines.first { $0.hasPrefix("from ") }?.dropFirst("from ".count))
        #expect(path.hasPrefix(fleet.home("web-1") + "/.flotilla/tmp/"))
        #expect(!FileManager.default.fileExists(atPath: String(path)))
        let temp = try FileManager.default.contentsOfDirectory(
            atPath: fleet.home("web-1") + "/.flotilla/tmp")
        #expect(temp.isEmpty)
    }
}
