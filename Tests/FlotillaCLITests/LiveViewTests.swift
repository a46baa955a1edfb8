import FlotillaEngine
import Foundation
import Testing

@testable import flotilla

@Suite struct LiveViewTests {
    @Test func aRealTerminalShowsOneLinePerHostWhileStepsRunThenTheRecap() throws {
        let terminal = try PseudoTerminal(columns: 100, rows: 30)
        defer { terminal.close() }
        let out = TextOutput(fileDescriptor: terminal.follower)
        #expect(out.isTerminal)
        let view = LiveView(out: out, verbosity: .normal, palette: Palette(enabled: true))
        let run = SyntheticRun(hosts: ["web-1", "web-2", "db-1"], failing: ["db-1"])

        view.receive(run.start())
        view.receive(RunEvent(host: nil, kind: .stageStarted(stage: "deploy", hosts: run.hosts)))
        for host in run.hosts {
            view.receive(RunEvent(host: host, kind: .connecting))
            view.receive(RunEvent(host: host, kind: .connected(
                hostKeyFingerprint: "SHA256:abc", duration: .milliseconds(5))))
            view.receive(RunEvent(host: host, kind: .stepStarted(
                stage: "deploy", step: "migrate the database")))
        }
        view.receive(RunEvent(host: "web-2", kind: .uploadProgress(
            step: "migrate the database", sent: 600_000, total: 2_000_000)))
        try waitFor(terminal) { TerminalScreen($0).lines.count == 3 }
        Thread.sleep(forTimeInterval: 0.3)

        let running = TerminalScreen(terminal.text).lines
        #expect(running.count == 3, "\(running)")
        for (line, host) in zip(running, ["web-1", "web-2", "db-1"]) {
            #expect(line.hasPrefix(host.padding(toLength: 5, withPad: " ", startingAt: 0)
                + "  deploy › migrate the database  0."), "\(line)")
        }
        #expect(running[1].hasSuffix("[######--------------]  30% 0.6/2.0 MB"))
        // Redrawn in place: the cursor goes back up over the three lines.
        #expect(terminal.text.contains("\u{1B}[3A"))

        // A failure is printed above the live lines, which stay one per host.
        view.receive(RunEvent(host: "db-1", kind: .stepFinished(
            stage: "deploy", step: "migrate the database", status: .failed,
            message: "exited with status 2", duration: .seconds(1))))
        try waitFor(terminal) { $0.contains("failed at") }
        let afterFailure = TerminalScreen(terminal.text).lines
        #expect(afterFailure.first ==
            "db-1 failed  deploy/migrate the database (1.0s): exited with status 2")
        #expect(afterFailure.count == 4)
        #expect(afterFailure.filter { $0.hasPrefix("web-1 ") }.count == 1)

        for host in run.hosts {
            view.receive(RunEvent(host: host, kind: .hostFinished(run.summary(host))))
        }
        view.receive(run.finish())
        try waitFor(terminal) { $0.contains("logs: ") }
        let final = TerminalScreen(terminal.text).lines
        #expect(Array(final[1...3]) == [
            "web-1  done", "web-2  done", "db-1   failed at deploy › migrate the database",
        ])
        #expect(final.contains("RECAP"))
        #expect(final.contains("host   ok  changed  skipped  failed  unreachable  reason"))
        #expect(final.last == "logs: /tmp/flotilla-synthetic/run-1")
    }

    @Test func colourOnlyOnATerminalAndNeverWithNoColor() {
        #expect(Palette(isTerminal: true, environment: [:]).enabled)
        #expect(!Palette(isTerminal: false, environment: [:]).enabled)
        #expect(!Palette(isTerminal: true, environment: ["NO_COLOR": "1"]).enabled)
        #expect(Palette(isTerminal: true, environment: ["NO_COLOR": ""]).enabled)
    }

    @Test func theProgressBarShowsShareAndMegabytes() {
        #expect(LiveView.bar(sent: 0, total: 3_000_000)
            == "[--------------------]   0% 0.0/3.0 MB")
        #expect(LiveView.bar(sent: 3_000_000, total: 3_000_000)
            == "[####################] 100% 3.0/3.0 MB")
    }

    private func waitFor(
        _ terminal: PseudoTerminal, timeout: TimeInterval = 5,
        _ condition: (String) -> Bool
    ) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition(terminal.text) {
            guard Date() < deadline else {
                Issue.record("the terminal never showed what was expected:\n\(terminal.text)")
                return
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }
}

@Suite struct LiveViewCrowdTests {
    /// More hosts than rows: the busy ones get a line, the rest one count.
    @Test func aFleetTallerThanTheTerminalShowsBusyHostsAndACountOfTheRest() throws {
        let terminal = try PseudoTerminal(columns: 80, rows: 6)
        defer { terminal.close() }
        let view = LiveView(
            out: TextOutput(fileDescriptor: terminal.follower), verbosity: .normal,
            palette: Palette(enabled: false))
        let hosts = (1...10).map { "web-\($0)" }
        view.receive(SyntheticRun(hosts: hosts).start())
        for host in hosts.prefix(2) {
            view.receive(RunEvent(host: host, kind: .stepStarted(stage: "s", step: "t")))
        }
        for host in hosts.dropFirst(2).prefix(3) {
            view.receive(RunEvent(host: host, kind: .hostFinished(
                HostSummary(host: host, address: "a", ok: 1))))
        }

        let deadline = Date().addingTimeInterval(5)
        while !terminal.text.contains("3 done") && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        let lines = TerminalScreen(terminal.text).lines
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.first?.hasPrefix("web-1   s › t  ") == true)
        #expect(lines.dropFirst().first?.hasPrefix("web-2   s › t  ") == true)
        #expect(lines.last == "… 8 more hosts: 3 done, 0 failed, 5 waiting")
    }
}
