// Whole runs over SSH on a sandbox fleet: real sshd servers, real libssh2, playbooks loaded
// from YAML like a user writes them.

import FlotillaConfig
import FlotillaSandbox
import Foundation
import Testing

@testable import FlotillaEngine

/// A sandbox fleet with a playbook, stopped at the end even when the test fails.
struct SandboxRun {
    let fleet: SandboxFleet
    let inventory: Inventory

    /// `prefix` names the hosts, and so their Unix users, which fleets with the same names
    /// share: each test uses its own, and starts from a home without earlier runs' files.
    /// `serverConfig`: more sshd settings for every host of the fleet.
    static func with(
        prefix: String, count: Int, serverConfig: String = "",
        _ body: (SandboxRun) async throws -> Void
    ) async throws {
        var options = try SandboxOptions.temporary(count: count, namePrefix: prefix)
        options.extraServerConfig = serverConfig
        try await SandboxFleet.withFleet(options) { fleet in
            for host in fleet.hosts { emptyHome(host.home) }
            let inventory = try Inventory.load(files: [fleet.inventoryPath], sshConfig: nil)
            try await body(SandboxRun(fleet: fleet, inventory: inventory))
        }
    }

    private static func emptyHome(_ home: String) {
        let keep: Set = [".bashrc", ".profile", ".bash_logout"]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: home)) ?? []
        for entry in entries where !keep.contains(entry) {
            try? FileManager.default.removeItem(atPath: home + "/" + entry)
        }
    }

    func home(_ host: String) -> String {
        fleet.hosts.first { $0.name == host }!.home
    }

    var names: [String] { fleet.hosts.map(\.name) }

    /// Writes `yaml` as a playbook and runs it; `connector` replaces the engine's own
    /// (to change connection settings the inventory has no key for).
    func run(
        _ yaml: String, name: String = "play.yml", options: RunOptions = RunOptions(),
        environment: [String: String] = [:], sink: any RunEventSink = EventLog(),
        connector: (any HostConnector)? = nil
    ) async throws -> RunOutcome {
        try await start(yaml, name: name, options: options, environment: environment,
                        sink: sink, connector: connector).value
    }

    func start(
        _ yaml: String, name: String = "play.yml", options: RunOptions = RunOptions(),
        environment: [String: String] = [:], sink: any RunEventSink = EventLog(),
        connector: (any HostConnector)? = nil
    ) throws -> Task<RunOutcome, Never> {
        let path = fleet.folder + "/" + name
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        let playbook = try Playbook.load(path: path)
        let secrets = try Secrets.resolve(
            playbook.secrets, relativeTo: fleet.folder, environment: environment)
        let hosts = try inventory.select(playbook.hosts)
        let plans = try resolvePlans(
            playbook: playbook, hosts: hosts, extraVars: [:], secrets: secrets,
            inventory: inventory)
        var options = options
        options.logsFolder = fleet.folder + "/runs"
        let inventory = self.inventory
        guard let connector else {
            return Task {
                await Engine.run(
                    playbook: playbook, plans: plans, inventory: inventory, secrets: secrets,
                    options: options, sink: sink)
            }
        }
        let driver = RunDriver(
            playbook: playbook, plans: plans, inventory: inventory, secrets: secrets,
            options: options, sink: sink, connector: connector,
            environment: ProcessInfo.processInfo.environment)
        return Task { await driver.run() }
    }
}

@Suite(.serialized) struct SandboxRunTests {
    @Test func aHostFailingInStageTwoStopsThereWhileFourOthersFinish() async throws {
        try await SandboxRun.with(prefix: "ra-", count: 5) { sandbox in
            let outcome = try await sandbox.run("""
                name: three stages
                hosts: all
                stages:
                  - name: prepare
                    steps:
                      - run: echo prepared > ~/stage1
                  - name: deploy
                    steps:
                      - name: deploy the app
                        run: |
                          echo deploying {{ host.name }}
                          test "{{ host.name }}" != ra-3
                          echo deployed > ~/stage2
                  - name: finish
                    steps:
                      - run: echo finished > ~/stage3
                """)
            #expect(outcome.exitCode == 1)
            for name in sandbox.names {
                let home = sandbox.home(name)
                #expect(read(home + "/stage1") == "prepared\n")
                #expect(read(home + "/stage3") == (name == "ra-3" ? nil : "finished\n"))
            }
            let failed = try #require(outcome.summaries.first { $0.host == "ra-3" })
            #expect(failed.failure == "deploy the app: line 2 failed (exit 1):"
                + " test \"ra-3\" != ra-3")
            #expect(failed.changed == 1 && failed.failed == 1)
            let record = try RunRecord.decode(
                Data(contentsOf: URL(fileURLWithPath: outcome.runFolder + "/run.json")))
            #expect(record.hosts.map(\.summary) == outcome.summaries)
            #expect(record.hosts.map(\.status)
                == [.finished, .finished, .failed, .finished, .finished])
            let log = try #require(read(outcome.runFolder + "/ra-2.log"))
            #expect(log.contains("out| deploying ra-2\n"))
        }
    }

    @Test func filesOverSSHAreIdempotentAndCheckModeTouchesNothing() async throws {
        try await SandboxRun.with(prefix: "rb-", count: 2) { sandbox in
            try "conf for {{ host.name }}\n".write(
                toFile: sandbox.fleet.folder + "/app.conf", atomically: true, encoding: .utf8)
            let yaml = """
                name: files
                hosts: all
                stages:
                  - name: files
                    steps:
                      - template: app.conf
                        to: ~/app.conf
                      - content: "second {{ host.name }}"
                        to: ~/conf/second
                        parents: true
                        mode: "0640"
                """
            var check = RunOptions()
            check.check = true
            let dry = try await sandbox.run(yaml, options: check)
            #expect(dry.exitCode == 0)
            #expect(dry.summaries.map(\.changed) == [2, 2])
            #expect(read(sandbox.home("rb-1") + "/app.conf") == nil)

            let first = try await sandbox.run(yaml)
            #expect(first.exitCode == 0)
            #expect(first.summaries.map(\.changed) == [2, 2])
            #expect(read(sandbox.home("rb-2") + "/app.conf") == "conf for rb-2\n")

            let second = try await sandbox.run(yaml)
            #expect(second.summaries.map(\.ok) == [2, 2])
            #expect(second.summaries.map(\.changed) == [0, 0])

            // With changes waiting, --check still leaves every file exactly as it was.
            try "conf v2 for {{ host.name }}\n".write(
                toFile: sandbox.fleet.folder + "/app.conf", atomically: true, encoding: .utf8)
            let changing = yaml + """

                      - content: "third"
                        to: ~/conf/third
                      - run: touch ~/ran
                """
            let before = sandbox.names.map { Self.snapshot(of: sandbox.home($0)) }
            let checked = try await sandbox.run(changing, options: check)
            #expect(checked.exitCode == 0)
            #expect(checked.summaries.map(\.changed) == [2, 2])
            #expect(sandbox.names.map { Self.snapshot(of: sandbox.home($0)) } == before)
        }
    }

    /// Every entry under `home` but Flotilla's own run folder: path, type, mode, size,
    /// modification time and contents.
    private static func snapshot(of home: String) -> [String] {
        let files = FileManager.default
        let entries = (try? files.subpathsOfDirectory(atPath: home)) ?? []
        return entries.filter { !$0.hasPrefix(".flotilla") }.sorted().map { entry in
            let path = home + "/" + entry
            let attributes = (try? files.attributesOfItem(atPath: path)) ?? [:]
            let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue ?? -1
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let contents = files.contents(atPath: path).map { Checksum.sha256Hex(Array($0)) }
            return "\(entry) \(attributes[.type] ?? "") \(String(mode, radix: 8))"
                + " \(attributes[.size] ?? "") \(modified) \(contents ?? "-")"
        }
    }

    @Test func anInterruptDuringALongStepLeavesNothingRunningAndExits130() async throws {
        try await SandboxRun.with(prefix: "rc-", count: 3) { sandbox in
            let seconds = 600 + Int.random(in: 1...999)
            let task = try sandbox.start("""
                name: long
                hosts: all
                stages:
                  - name: wait
                    steps:
                      - run: sleep \(seconds)
                """)
            try await waitUntil(.seconds(20)) { processes(matching: "sleep \(seconds)") == 3 }
            let clock = ContinuousClock()
            let start = clock.now
            task.cancel()
            let outcome = await task.value
            // A bound against a hang: 2–4 s alone, once 13 s beside the whole suite.
            #expect(clock.now - start < .seconds(30))
            #expect(outcome.exitCode == 130)
            #expect(processes(matching: "sleep \(seconds)") == 0,
                    "\(read(outcome.runFolder + "/rc-1.log") ?? "")")
            for name in sandbox.names {
                let temp = sandbox.home(name) + "/.flotilla/tmp"
                #expect((try? FileManager.default.contentsOfDirectory(atPath: temp))?.isEmpty ?? true)
                #expect(!FileManager.default.fileExists(
                    atPath: sandbox.home(name) + "/.flotilla/lock"))
            }
            let record = try RunRecord.decode(
                Data(contentsOf: URL(fileURLWithPath: outcome.runFolder + "/run.json")))
            #expect(record.exitCode == 130 && record.interrupted)
        }
    }

    @Test func aSecretNeverReachesOutputLogsRecordsOrProcessArguments() async throws {
        try await SandboxRun.with(prefix: "rd-", count: 1) { sandbox in
            let secret = "Sandbox-Sekret-8812"
            let sleep = "sleep 2.\(Int.random(in: 100...999))"
            let sink = EventLog()
            let task = try sandbox.start("""
                name: secrets
                hosts: all
                secrets:
                  token: env:FLOTILLA_ENGINE_TEST_TOKEN
                stages:
                  - name: use
                    steps:
                      - run: |
                          echo "token $TOKEN"
                          printf '%s' "$TOKEN" | base64
                          \(sleep)
                        env: { TOKEN: "{{ secrets.token }}" }
                      - content: "TOKEN={{ secrets.token }}"
                        to: ~/.env
                """, environment: ["FLOTILLA_ENGINE_TEST_TOKEN": secret], sink: sink)
            // Every process's arguments, read while the step runs (its `sleep` shows it does).
            try await waitUntil(.seconds(30)) { LocalProcesses.count(commandLine: sleep) == 1 }
            var arguments = ""
            for _ in 0..<10 {
                arguments += LocalProcesses.commandLines().joined(separator: "\n")
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(arguments.contains(sleep))
            let outcome = await task.value
            #expect(outcome.exitCode == 0)
            var everything = sink.text + arguments
            for file in try FileManager.default.subpathsOfDirectory(atPath: outcome.runFolder) {
                everything += read(outcome.runFolder + "/" + file) ?? ""
            }
            #expect(!everything.contains(secret))
            #expect(!everything.contains(Data(secret.utf8).base64EncodedString()))
            #expect(sink.output(of: "rd-1").first == "token ********")
            #expect(read(sandbox.home("rd-1") + "/.env") == "TOKEN=\(secret)")
        }
    }

    @Test func becomeWritesARootOwnedFileThroughSudo() async throws {
        try await SandboxRun.with(prefix: "re-", count: 1) { sandbox in
            let target = "/tmp/flotilla-engine-become-\(UInt32.random(in: 0...UInt32.max))"
            defer { try? FileManager.default.removeItem(atPath: target) }
            let yaml = """
                name: become
                hosts: all
                stages:
                  - name: root
                    steps:
                      - content: "owned by root"
                        to: \(target)
                        become: true
                        owner: root
                        mode: "0600"
                      - run: test "$(id -u)" = 0
                        become: true
                """
            let outcome = try await sandbox.run(yaml)
            #expect(outcome.exitCode == 0)
            let attributes = try FileManager.default.attributesOfItem(atPath: target)
            #expect(attributes[.ownerAccountName] as? String == "root")
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let again = try await sandbox.run(yaml)
            #expect(again.summaries[0].ok == 1)
        }
    }

    /// R24: a command killed by a signal is a failure that names the signal.
    @Test func aStepKilledBySIGTERMFailsSayingSo() async throws {
        try await SandboxRun.with(prefix: "rl-", count: 1) { sandbox in
            let sink = EventLog()
            let outcome = try await sandbox.run("""
                name: signals
                hosts: all
                stages:
                  - name: die
                    steps:
                      - run: kill -TERM $$
                """, sink: sink)
            #expect(outcome.exitCode == 1)
            #expect(sink.finishedSteps.first?.message == "terminated by SIGTERM")
            #expect(outcome.record?.hosts[0].stages[0].steps[0].exitStatus == "signalled(TERM)")
        }
    }

    /// Field report R11 over SSH: sudo that wants a password, and sudo that wants a tty,
    /// fail at once with a message saying what to do, far from the step's timeout.
    @Test func sudoWantingAPasswordOrATtyFailsWithinSecondsOverSSH() async throws {
        try await SandboxRun.with(prefix: "sp-", count: 2) { sandbox in
            // Read after the sandbox's own rules, so these win.
            let rules = [
                "/etc/sudoers.d/zz-flotilla-sp-1": "flotilla-sp-1 ALL=(ALL:ALL) ALL\n",
                "/etc/sudoers.d/zz-flotilla-sp-2": "Defaults:flotilla-sp-2 requiretty\n",
            ]
            defer { for file in rules.keys { try? FileManager.default.removeItem(atPath: file) } }
            for (file, rule) in rules {
                let temporary = "/etc/sudoers.d/.zz-new"
                try rule.write(toFile: temporary, atomically: false, encoding: .utf8)
                try FileManager.default.setAttributes(
                    [.posixPermissions: 0o440], ofItemAtPath: temporary)
                try runLocally("/usr/sbin/visudo", ["-cf", temporary])
                _ = rename(temporary, file)
            }
            let started = ContinuousClock.now
            let outcome = try await sandbox.run("""
                name: restart
                hosts: all
                stages:
                  - name: services
                    steps:
                      - name: restart
                        run: systemctl restart gunicorn
                        become: true
                        timeout: 5m
                """)
            #expect(ContinuousClock.now - started < .seconds(20))
            #expect(outcome.exitCode == 1)
            for (index, host) in sandbox.names.enumerated() {
                #expect(outcome.summaries[index].failure == "restart: sudo on \(host) needs a"
                    + " password: set become_password in the playbook, or allow NOPASSWD for"
                    + " these commands")
            }
        }
    }

    /// Hosts that share a filesystem (the sandbox's, or one machine under two names) each
    /// write a root-owned file through sudo to the same path at once: none trips over
    /// another's temporary file.
    @Test func hostsSharingAFilesystemWriteTheSamePathThroughSudo() async throws {
        let folder = "/tmp/flotilla-shared-\(UUID().uuidString)"
        try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try await SandboxRun.with(prefix: "sf-", count: 3) { sandbox in
            try "port = 8000\n".write(
                toFile: sandbox.fleet.folder + "/app.conf", atomically: true, encoding: .utf8)
            let outcome = try await sandbox.run("""
                name: shared
                hosts: all
                stages:
                  - name: conf
                    steps:
                      - template: app.conf
                        to: \(folder)/app.conf
                        become: true
                        owner: root
                        mode: "0640"
                """)
            #expect(outcome.exitCode == 0, "\(outcome.summaries.compactMap(\.failure))")
            let attributes = try FileManager.default.attributesOfItem(atPath: folder + "/app.conf")
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o640)
            #expect(attributes[.ownerAccountName] as? String == "root")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["app.conf"])
        }
    }
}

