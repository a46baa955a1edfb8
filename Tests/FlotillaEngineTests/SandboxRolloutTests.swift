// Rolling runs, handlers, resume, locks and `exec` over SSH on a sandbox fleet.

import FlotillaConfig
import FlotillaSandbox
import Foundation
import Testing

@testable import FlotillaEngine

@Suite(.serialized) struct SandboxRolloutTests {
    @Test func serialTwoWithMaxFailuresZeroStopsAfterTheFirstBatchWithAFailure() async throws {
        try await SandboxRun.with(prefix: "rf-", count: 4) { sandbox in
            let outcome = try await sandbox.run("""
                name: rolling
                hosts: all
                serial: 2
                max_failures: 0
                stages:
                  - name: one
                    steps:
                      - run: test "{{ host.name }}" != rf-2 && touch ~/one
                  - name: two
                    steps:
                      - run: touch ~/two
                """)
            #expect(outcome.exitCode == 1)
            #expect(outcome.record?.hosts.map(\.status) == [.notRun, .failed, .notRun, .notRun])
            #expect(FileManager.default.fileExists(atPath: sandbox.home("rf-1") + "/one"))
            #expect(!FileManager.default.fileExists(atPath: sandbox.home("rf-1") + "/two"))
            for name in ["rf-3", "rf-4"] {
                #expect(!FileManager.default.fileExists(atPath: sandbox.home(name) + "/one"))
            }
        }
    }

    @Test func handlersRunOnlyWhereANotifyingStepChangedOncePerStage() async throws {
        try await SandboxRun.with(prefix: "rg-", count: 2) { sandbox in
            try "v1".write(toFile: sandbox.home("rg-1") + "/app.conf", atomically: true,
                           encoding: .utf8)
            _ = chmod(sandbox.home("rg-1") + "/app.conf", 0o644)
            let user = sandbox.fleet.hosts[0].user
            _ = chown(sandbox.home("rg-1") + "/app.conf", getpwnam(user).pointee.pw_uid,
                      getpwnam(user).pointee.pw_gid)
            let outcome = try await sandbox.run("""
                name: handlers
                hosts: all
                stages:
                  - name: config
                    steps:
                      - content: "v1"
                        to: ~/app.conf
                        mode: "0644"
                        notify: restart
                      - content: "other"
                        to: ~/other.conf
                        notify: restart
                      - run: echo step >> ~/events
                handlers:
                  restart: { run: echo restart >> ~/events }
                """)
            #expect(outcome.exitCode == 0)
            // Both hosts changed other.conf; the handler still ran once, after the steps.
            #expect(read(sandbox.home("rg-1") + "/events") == "step\nrestart\n")
            #expect(read(sandbox.home("rg-2") + "/events") == "step\nrestart\n")

            let again = try await sandbox.run("""
                name: handlers
                hosts: all
                stages:
                  - name: config
                    steps:
                      - content: "v1"
                        to: ~/app.conf
                        mode: "0644"
                        notify: restart
                handlers:
                  restart: { run: echo restart >> ~/events }
                """, name: "again.yml")
            #expect(again.summaries.map(\.ok) == [1, 1])
            #expect(read(sandbox.home("rg-1") + "/events") == "step\nrestart\n")
        }
    }

    @Test func resumeAfterAFailureRunsOnlyWhatWasLeft() async throws {
        try await SandboxRun.with(prefix: "rh-", count: 2) { sandbox in
            let flag = sandbox.fleet.folder + "/broken"
            FileManager.default.createFile(atPath: flag, contents: nil)
            _ = chmod(sandbox.fleet.folder, 0o755)
            let yaml = """
                name: resumable
                hosts: all
                stages:
                  - name: one
                    steps:
                      - run: echo one >> ~/log
                  - name: two
                    steps:
                      - run: test "{{ host.name }}" != rh-2 || test ! -e \(flag)
                      - run: echo two >> ~/log
                """
            let first = try await sandbox.run(yaml)
            #expect(first.exitCode == 1)
            try FileManager.default.removeItem(atPath: flag)
            var options = RunOptions()
            options.resume = true
            let second = try await sandbox.run(yaml, options: options)
            #expect(second.exitCode == 0)
            #expect(read(sandbox.home("rh-1") + "/log") == "one\ntwo\n")
            #expect(read(sandbox.home("rh-2") + "/log") == "one\ntwo\n")
            #expect(second.summaries.map(\.changed) == [0, 2])
        }
    }

    @Test func aSecondConcurrentRunFailsFastNamingTheHolder() async throws {
        try await SandboxRun.with(prefix: "ri-", count: 1) { sandbox in
            let yaml = """
                name: slow
                hosts: all
                stages:
                  - name: wait
                    steps:
                      - run: sleep 3
                """
            let first = try sandbox.start(yaml)
            try await waitUntil(.seconds(10)) {
                FileManager.default.fileExists(
                    atPath: sandbox.home("ri-1") + "/.flotilla/lock")
            }
            let clock = ContinuousClock()
            let start = clock.now
            let second = try await sandbox.run(yaml)
            #expect(clock.now - start < .seconds(3))
            let firstOutcome = await first.value
            #expect(firstOutcome.exitCode == 0)
            #expect(second.exitCode == 1)
            let failure = try #require(second.summaries[0].failure)
            #expect(failure.hasPrefix("ri-1 is locked by "))
            #expect(failure.contains("(run \(firstOutcome.record!.runID)) since "))
            #expect(failure.hasSuffix(
                "; if that run is gone, run `rm -r ~/.flotilla/lock` on ri-1"))
        }
    }

    @Test func execRunsOneCommandOnEveryHostWithTheSameRecords() async throws {
        try await SandboxRun.with(prefix: "rj-", count: 2) { sandbox in
            let sink = EventLog()
            let outcome = await Engine.exec(
                command: "echo hello from $(hostname -s) >/dev/null; echo hi", hosts:
                    sandbox.inventory.hosts, inventory: sandbox.inventory, become: false,
                timeout: .seconds(30), forks: 5, logsFolder: sandbox.fleet.folder + "/runs",
                sink: sink)
            #expect(outcome.exitCode == 0)
            #expect(outcome.summaries.map(\.changed) == [1, 1])
            #expect(sink.output(of: "rj-1") == ["hi"])
            #expect(FileManager.default.fileExists(atPath: outcome.runFolder + "/run.json"))
        }
    }

    @Test func aHostBehindAJumpHostIsReachedThroughIt() async throws {
        try await SandboxRun.with(prefix: "rk-", count: 2) { sandbox in
            var inventory = sandbox.inventory
            inventory.hosts[1].jump = inventory.hosts[0].name
            let target = inventory.hosts[1]
            let step = ResolvedStep(
                id: "0/0", displayName: "mark", kind: .run("echo through > ~/jumped"))
            let plan = HostPlan(
                host: target, stages: [ResolvedStage(name: "s", parallel: nil, steps: [step])],
                handlers: [:])
            var options = RunOptions()
            options.logsFolder = sandbox.fleet.folder + "/runs"
            let outcome = await Engine.run(
                playbook: Playbook(path: sandbox.fleet.folder + "/j.yml", name: "jump",
                                   hosts: target.name, stages: []),
                plans: [plan], inventory: inventory, secrets: Secrets(values: [:]),
                options: options, sink: EventLog())
            #expect(outcome.exitCode == 0)
            #expect(read(sandbox.home("rk-2") + "/jumped") == "through\n")
            // Only rk-2 was planned: a login on rk-1 is the jump.
            let jumpLog = read(sandbox.fleet.hosts[0].logFile) ?? ""
            #expect(jumpLog.contains("Accepted publickey"))
        }
    }
}
