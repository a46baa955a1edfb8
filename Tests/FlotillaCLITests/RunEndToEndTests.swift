import FlotillaSandbox
import Foundation
import Testing

/// `flotilla run` against real sshd servers, through each output.
@Suite(.serialized) struct RunEndToEndTests {
    static let secret = "s3cr3t-Value-42"

    static let failingPlaybook = """
        name: release
        hosts: all
        max_failures: 3
        secrets:
          token: env:FLOTILLA_E2E_TOKEN
        stages:
          - name: prepare
            steps:
              - name: show the token
                run: echo "token is $TOKEN"; echo "stderr $TOKEN" >&2
                env: { TOKEN: "{{ secrets.token }}" }
          - name: deploy
            steps:
              - name: migrate
                run: test {{ host.name }} = gh-1
              - name: restart
                run: echo restarted

        """

    @Test func githubModeMasksGroupsAnnotatesAndSummarisesAFailingRun() async throws {
        try await CLIFleet.with(count: 3, prefix: "gh-") { fleet, folder in
            let playbook = try folder.write("release.yml", Self.failingPlaybook)
            let summary = try folder.write("summary.md", "")
            let result = try await FlotillaProcess.run(
                ["run", playbook, "-i", fleet.inventoryPath],
                environment: [
                    "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary,
                    "FLOTILLA_E2E_TOKEN": Self.secret,
                ],
                in: folder.url)

            #expect(result.status == 1, "\(result.stderr)")
            let log = GitHubLog(result.stdout)
            log.check(secrets: [Self.secret])
            #expect(log.masks == ["::add-mask::\(Self.secret)"])
            #expect(log.annotations.count == 2)
            for host in ["gh-2", "gh-3"] {
                #expect(log.annotations.contains {
                    $0.hasPrefix("::error title=\(host)%3A deploy/migrate failed::")
                        && $0.contains("host \(host), stage deploy, step migrate: ")
                })
            }
            let groups = log.lines.filter { $0.hasPrefix("::group::") }
            #expect(Set(groups) == Set(["gh-1", "gh-2", "gh-3"].flatMap { host in
                ["::group::\(host) · prepare", "::group::\(host) · deploy"]
            }))
            #expect(groups.count == 6)
            #expect(!result.stderr.contains(Self.secret))

            let markdown = try String(contentsOfFile: summary, encoding: .utf8)
            #expect(markdown.contains(
                "| host | ok | changed | skipped | failed | unreachable | ignored"))
            #expect(markdown.contains("| gh-1 |"))
            #expect(markdown.contains("| gh-2 |"))
            #expect(markdown.split(separator: "\n").contains {
                $0.hasPrefix("| gh-3 |") && $0.contains("| 1 | 0 |")
            })
            #expect(!markdown.contains(Self.secret))
        }
    }

    @Test func jsonModePrintsExactlyTheRunRecord() async throws {
        try await CLIFleet.with(count: 2, prefix: "js-") { fleet, folder in
            let playbook = try folder.write("hello.yml", """
                name: hello
                hosts: all
                stages:
                  - name: greet
                    steps:
                      - run: echo hello from {{ host.name }}

                """)
            let logs = folder.url.appendingPathComponent("runs")
            let result = try await FlotillaProcess.run(
                ["run", playbook, "-i", fleet.inventoryPath, "--output", "json",
                 "--logs", logs.path],
                in: folder.url)

            #expect(result.status == 0, "\(result.stderr)")
            let runs = try FileManager.default.contentsOfDirectory(atPath: logs.path)
            try #require(runs.count == 1)
            let record = try Data(contentsOf: logs.appendingPathComponent(runs[0] + "/run.json"))
            let printed = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
            let stored = try JSONSerialization.jsonObject(with: record)
            #expect((printed as? NSDictionary) == (stored as? NSDictionary))
            #expect((printed as? NSDictionary) != nil)
        }
    }

    /// Field report R25: three hosts printing at once, plain output, never mixed.
    @Test func plainOutputKeepsEachLineOfThreeHostsPrintingAtOnceWhole() async throws {
        try await CLIFleet.with(count: 3, prefix: "r25-") { fleet, folder in
            let playbook = try folder.write("chatty.yml", """
                name: chatty
                hosts: all
                stages:
                  - name: talk
                    steps:
                      - name: print
                        run: |
                          for i in $(seq 1 400); do
                            echo "{{ host.name }} says line $i of a longer text to print"
                            echo "{{ host.name }} warns line $i" >&2
                          done

                """)
            let logs = folder.url.appendingPathComponent("runs").path
            let result = try await FlotillaProcess.run(
                ["run", playbook, "-i", fleet.inventoryPath, "-v", "--output", "plain",
                 "--logs", logs],
                in: folder.url)
            #expect(result.status == 0, "\(result.stderr)")

            // Each host's lines on the console are its log's output lines, in the same order.
            let run = try #require(try FileManager.default.contentsOfDirectory(atPath: logs).first)
            for host in fleet.hosts.map(\.name) {
                let console = result.stdout.split(separator: "\n")
                    .filter { $0.hasPrefix("\(host) | \(host) ") || $0.hasPrefix("\(host) ! ") }
                    .map { $0.dropFirst(host.count + 1) }
                    .map { ($0.hasPrefix("| ") ? "out" : "err") + String($0) }
                let log = try String(contentsOfFile: "\(logs)/\(run)/\(host).log", encoding: .utf8)
                    .split(separator: "\n")
                    .compactMap { line -> String? in
                        let text = line.drop { $0 != " " }.dropFirst()
                        guard text.hasPrefix("out| ") || text.hasPrefix("err| ") else { return nil }
                        return String(text.prefix(3)) + (text.hasPrefix("out") ? "| " : "! ")
                            + text.dropFirst(5)
                    }
                #expect(console.count == 800 && console == log, "\(host)")
            }

            var said: [String: Int] = [:]
            var warned: [String: Int] = [:]
            let lines = result.stdout.split(separator: "\n").prefix { $0 != "RECAP" }
            for line in lines where line.hasPrefix("r25-") {
                let host = String(line.prefix { $0 != " " })
                let rest = line.dropFirst(host.count)
                if rest.hasPrefix(" | \(host) says ") {
                    said[host, default: 0] += 1
                    #expect(rest == " | \(host) says line \(said[host]!) of a longer text to print")
                } else if rest.hasPrefix(" ! ") {
                    warned[host, default: 0] += 1
                    #expect(rest == " ! \(host) warns line \(warned[host]!)")
                } else {
                    #expect(rest.hasPrefix(" | "), "a mixed line: \(line)")
                    #expect(!rest.contains("says") && !rest.contains("warns"), "\(line)")
                }
            }
            #expect(said == ["r25-1": 400, "r25-2": 400, "r25-3": 400])
            #expect(warned == ["r25-1": 400, "r25-2": 400, "r25-3": 400])
        }
    }

    @Test func aTerminalShowsALinePerHostWhileAStepRunsThenTheRecap() async throws {
        try await CLIFleet.with(count: 3, prefix: "tty-") { fleet, folder in
            let playbook = try folder.write("slow.yml", """
                name: slow
                hosts: all
                stages:
                  - name: build
                    steps:
                      - name: compile
                        run: sleep 2

                """)
            let command = [FlotillaProcess.executable.path, "run", playbook, "-i",
                           fleet.inventoryPath].joined(separator: " ")
            let running = try FlotillaProcess(
                ["-qfec", command, "/dev/null"], environment: ["TERM": "xterm"],
                in: folder.url, executable: URL(fileURLWithPath: "/usr/bin/script"))

            try await running.waitUntil(timeout: 30) { text in
                TerminalScreen(text).lines.filter { $0.contains("build › compile") }.count == 3
            }
            let during = TerminalScreen(running.stdout).lines
            #expect(during.count == 3, "\(during)")
            for (line, host) in zip(during, ["tty-1", "tty-2", "tty-3"]) {
                #expect(line.hasPrefix("\(host)  build › compile  "), "\(line)")
                #expect(line.hasSuffix("s"))
            }

            let result = try await running.wait(timeout: 30)
            #expect(result.status == 0)
            let after = TerminalScreen(result.stdout).lines
            #expect(Array(after.prefix(3)) == ["tty-1  done", "tty-2  done", "tty-3  done"])
            #expect(after.contains("RECAP"))
            #expect(after.contains("tty-2   0        1        0       0            0        0"))
            #expect(after.last?.hasPrefix("logs: .flotilla/runs/") == true)
            // Colour on a terminal.
            #expect(result.stdout.contains("\u{1B}[32mdone\u{1B}[0m"))
        }
    }

    /// Field report R29 with a real SIGINT (Ctrl-C), and SIGTERM (what a CI runner sends
    /// next): within 8 seconds no step is left running on any host, the run's temporary
    /// files and locks are gone, and the logs and run.json say the run was interrupted.
    @Test(arguments: [SIGINT, SIGTERM])
    func aSignalInterruptsTheRunCleanlyAndExits130(_ signal: Int32) async throws {
        let prefix = signal == SIGINT ? "int-" : "term-"
        try await CLIFleet.with(count: 3, prefix: prefix) { fleet, folder in
            let sleep = "sleep \(600 + Int.random(in: 1...999))"
            let playbook = try folder.write("long.yml", """
                name: long
                hosts: all
                stages:
                  - name: wait
                    steps:
                      - name: sleep
                        run: \(sleep)

                """)
            let logs = folder.url.appendingPathComponent("runs").path
            let running = try FlotillaProcess(
                ["run", playbook, "-i", fleet.inventoryPath, "-v", "--output", "plain",
                 "--logs", logs],
                in: folder.url)
            try await running.waitUntil(timeout: 30) { _ in
                LocalProcesses.count(commandLine: sleep) == 3
            }
            let interrupted = ContinuousClock.now
            kill(running.process.processIdentifier, signal)

            let result = try await running.wait(timeout: 30)
            #expect(ContinuousClock.now - interrupted < .seconds(8))
            #expect(result.status == 130)
            #expect(LocalProcesses.count(commandLine: sleep) == 0)
            #expect(result.stdout.contains(
                "== interrupting… (press Ctrl-C again to exit at once)"))
            #expect(result.stdout.contains("RECAP"))
            for host in fleet.hosts {
                let temp = host.home + "/.flotilla/tmp"
                #expect((try? FileManager.default.contentsOfDirectory(atPath: temp))?.isEmpty ?? true)
                #expect(!FileManager.default.fileExists(atPath: host.home + "/.flotilla/lock"))
            }
            let runs = try FileManager.default.contentsOfDirectory(atPath: logs)
            let run = try #require(runs.first, "no run folder in \(logs)")
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(logs)/\(run)/run.json"))
            let record = try #require(
                try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(record["interrupted"] as? Bool == true)
            #expect(record["exitCode"] as? Int == 130)
            for host in fleet.hosts {
                let log = try String(
                    contentsOfFile: "\(logs)/\(run)/\(host.name).log", encoding: .utf8)
                #expect(log.contains("interrupted"), "\(log)")
            }
        }
    }

    /// R29: a second Ctrl-C does not wait for the cleanup. The step ignores SIGTERM, so the
    /// cleanup after the first one takes seconds (TERM, a wait, then KILL).
    @Test func aSecondCtrlCExitsAtOnce() async throws {
        try await CLIFleet.with(count: 1, prefix: "int2-") { fleet, folder in
            let sleep = "sleep \(600 + Int.random(in: 1...999))"
            let playbook = try folder.write("long.yml", """
                name: long
                hosts: all
                stages:
                  - name: wait
                    steps:
                      - run: trap '' TERM; \(sleep)

                """)
            let running = try FlotillaProcess(
                ["run", playbook, "-i", fleet.inventoryPath, "--output", "plain"],
                in: folder.url)
            try await running.waitUntil(timeout: 30) { _ in
                LocalProcesses.count(commandLine: sleep) == 1
            }
            running.process.interrupt()
            try await running.waitUntil(timeout: 10) { $0.contains("interrupting") }
            let second = ContinuousClock.now
            running.process.interrupt()
            let result = try await running.wait(timeout: 30)
            #expect(result.status == 130)
            #expect(ContinuousClock.now - second < .seconds(3))
            // Nothing was cleaned up: the step, which ignores SIGTERM, is ended here.
            for pid in LocalProcesses.pids(commandLine: sleep) { kill(pid, SIGKILL) }
        }
    }

    /// Field report R12: memory stays bounded whatever a step prints. A 30 MB line without a
    /// newline passes through the command in 64 KiB pieces; its peak resident memory,
    /// read from /proc while it runs, stays far below the line's size on top of its own.
    @Test func aThirtyMegabyteLineDoesNotGrowTheProcess() async throws {
        try await CLIFleet.with(count: 1, prefix: "mem-") { fleet, folder in
            let size = 30 << 20
            let playbook = try folder.write("huge.yml", """
                name: huge line
                hosts: all
                stages:
                  - name: print
                    steps:
                      - run: head -c \(size) /dev/zero | tr '\\0' x

                """)
            let running = try FlotillaProcess(
                ["run", playbook, "-i", fleet.inventoryPath, "--output", "plain"],
                in: folder.url)
            let status = "/proc/\(running.process.processIdentifier)/status"
            var peak = 0
            while running.process.isRunning {
                let text = (try? String(contentsOfFile: status, encoding: .utf8)) ?? ""
                let line = text.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
                let kilobytes = line.split(separator: " ").dropFirst().first.flatMap { Int($0) }
                peak = max(peak, (kilobytes ?? 0) * 1024)
                try await Task.sleep(for: .milliseconds(20))
            }
            let result = try await running.wait(timeout: 60)
            #expect(result.status == 0, "\(result.stdout)")
            #expect(peak > 0 && peak < 64 << 20, "peak \(peak >> 20) MB")
        }
    }
}
