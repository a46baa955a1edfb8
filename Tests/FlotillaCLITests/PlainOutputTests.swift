import FlotillaEngine
import Foundation
import Testing

@testable import flotilla

@Suite struct PlainOutputTests {
    @Test func linesCarryTheHostStreamAndAMarkerForAMissingNewline() {
        let out = TextOutput()
        let output = PlainOutput(out: out, verbosity: .verbose)
        let run = SyntheticRun(hosts: ["web-1"], failing: ["web-1"])
        run.allEvents().forEach(output.receive)

        let lines = out.text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.contains("web-1 | web-1 applying 3 migrations"))
        #expect(lines.contains("web-1 ! web-1 warning: slow [no newline]"))
        #expect(lines.contains("web-1 | changed deploy/upload (0.4s)"))
        #expect(lines.contains("web-1 | failed  deploy/migrate (2.0s): exited with status 2"))
        #expect(lines.contains("logs: /tmp/flotilla-synthetic/run-1"))
    }

    @Test func quietPrintsOnlyTheFailureItsOutputAndTheRecap() {
        let out = TextOutput()
        let output = PlainOutput(out: out, verbosity: .quiet)
        SyntheticRun(hosts: ["web-1", "web-2"], failing: ["web-2"]).allEvents()
            .forEach(output.receive)

        let text = out.text
        #expect(!text.contains("web-1 |"))
        #expect(!text.contains("== "))
        #expect(text.contains("web-2 | failed  deploy/migrate (2.0s): exited with status 2\n"
            + "web-2 | web-2 applying 3 migrations\n"
            + "web-2 ! web-2 warning: slow [no newline]\n"))
        #expect(text.contains("RECAP"))
    }

    @Test func theRecapShowsEveryCountAndTheReason() {
        let lines = Recap(
            summaries: [
                HostSummary(host: "web-1", address: "a", ok: 3, changed: 1),
                HostSummary(
                    host: "db-10", address: "b", ok: 1, skipped: 2, failed: 1,
                    failure: "data/migrate: exited with status 1", ignored: 1),
            ],
            runFolder: ".flotilla/runs/r1"
        ).lines()
        #expect(lines == [
            "",
            "RECAP",
            "host   ok  changed  skipped  failed  unreachable  ignored  reason",
            "web-1   3        1        0       0            0        0",
            "db-10   1        0        2       1            0        1  "
                + "data/migrate: exited with status 1",
            "logs: .flotilla/runs/r1",
        ])
    }

    /// Field report R25: three hosts printing at once never share a line.
    @Test func threeHostsPrintingAtOnceNeverShareALine() async throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("flotilla-r25-\(UUID().uuidString)").path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        try #require(descriptor >= 0)
        defer { unlink(path) }
        let output = PlainOutput(out: TextOutput(fileDescriptor: descriptor), verbosity: .verbose)

        let hosts = ["web-1", "web-2", "web-3"]
        let linesPerHost = 2000
        DispatchQueue.concurrentPerform(iterations: hosts.count) { index in
            let host = hosts[index]
            for number in 0..<linesPerHost {
                let text = "\(host) line \(number) " + String(repeating: "x", count: number % 300)
                output.receive(RunEvent(host: host, kind: .output(
                    stream: number % 2 == 0 ? .stdout : .stderr, line: Array(text.utf8),
                    partial: false)))
            }
        }
        close(descriptor)

        let text = try String(contentsOfFile: path, encoding: .utf8)
        var next: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            let host = String(parts[0])
            try #require(hosts.contains(host), "a line without its host: \(line)")
            let mark = next[host, default: 0] % 2 == 0 ? "|" : "!"
            let expected = "\(host) \(mark) \(host) line \(next[host, default: 0]) "
                + String(repeating: "x", count: next[host, default: 0] % 300)
            #expect(String(line) == expected)
            next[host, default: 0] += 1
        }
        #expect(next == ["web-1": linesPerHost, "web-2": linesPerHost, "web-3": linesPerHost])
    }
}
