import FlotillaConfig
import Foundation
import Testing

@testable import FlotillaEngine

@Suite struct SchedulerTests {
    @Test func aHostFailingInTheSecondStageStopsAloneAndTheRunExitsOne() async throws {
        let fleet = try TestFleet(count: 5)
        defer { fleet.remove() }
        let plans = fleet.plans([
            ("one", { _ in [run("touch \"$HOME/one\"")] }),
            ("two", { host in
                [run(host == "web-3" ? "echo broken >&2; exit 3" : "touch \"$HOME/two\"",
                     name: "second")]
            }),
            ("three", { _ in [run("touch \"$HOME/three\"", name: "third")] }),
        ])
        let outcome = await fleet.run(plans)

        #expect(outcome.exitCode == 1)
        for host in fleet.hosts.map(\.name) {
            let home = fleet.home(host)
            #expect(FileManager.default.fileExists(atPath: home + "/one"))
            let finished = host != "web-3"
            #expect(FileManager.default.fileExists(atPath: home + "/three") == finished)
        }
        let failed = try #require(outcome.summaries.first { $0.host == "web-3" })
        #expect(failed.changed == 1 && failed.failed == 1)
        #expect(failed.failure == "second: exited with status 3: broken")
        for summary in outcome.summaries where summary.host != "web-3" {
            #expect(summary.changed == 3 && summary.failed == 0 && summary.failure == nil)
        }

        // The recap and run.json say the same thing.
        let data = try Data(contentsOf: URL(fileURLWithPath: outcome.runFolder + "/run.json"))
        let record = try RunRecord.decode(data)
        #expect(record.exitCode == 1)
        #expect(record.hosts.map(\.summary) == outcome.summaries)
        #expect(record.hosts.first { $0.host == "web-3" }?.status == .failed)
        #expect(record.hosts.first { $0.host == "web-3" }?.stages.count == 2)
        #expect(record.hosts.filter { $0.status == .finished }.count == 4)
    }

    @Test func serialTwoWithNoFailuresAllowedStopsAfterTheFirstBatch() async throws {
        let fleet = try TestFleet(count: 4)
        defer { fleet.remove() }
        let plans = fleet.plans([
            ("only", { host in [run(host == "web-2" ? "exit 1" : "touch \"$HOME/ran\"")] }),
        ])
        let playbook = Playbook(
            path: fleet.folder + "/p.yml", name: "rolling", hosts: "all", serial: .count(2),
            maxFailures: .count(0), stages: [])
        let outcome = await fleet.run(plans, playbook: playbook)

        #expect(outcome.exitCode == 1)
        #expect(FileManager.default.fileExists(atPath: fleet.home("web-1") + "/ran"))
        #expect(!FileManager.default.fileExists(atPath: fleet.home("web-3") + "/ran"))
        #expect(!FileManager.default.fileExists(atPath: fleet.home("web-4") + "/ran"))
        let statuses = outcome.record?.hosts.map(\.status)
        #expect(statuses == [.finished, .failed, .notRun, .notRun])
        #expect(outcome.summaries[2].failure
            == "not run: the run stopped after 1 host(s) failed (max_failures 0)")
    }

    @Test func aParallelLimitBoundsHowManyHostsRunAStageAtOnce() async throws {
        let fleet = try TestFleet(count: 4)
        defer { fleet.remove() }
        // Each host records the number of hosts inside the stage at the same time.
        let counter = fleet.folder + "/inside"
        let script = """
            mkdir -p "\(counter)"; touch "\(counter)/$$"; ls "\(counter)" | wc -l \
            >> "\(fleet.folder)/seen"; sleep 0.3; rm "\(counter)/$$"
            """
        var plans = fleet.plans([("limited", { _ in [run(script)] })])
        for i in plans.indices { plans[i].stages[0].parallel = 2 }
        let outcome = await fleet.run(plans)

        #expect(outcome.exitCode == 0)
        let seen = try #require(read(fleet.folder + "/seen"))
        let counts = seen.split(separator: "\n").compactMap {
            Int($0.trimmingCharacters(in: .whitespaces))
        }
        #expect(counts.count == 4)
        #expect(counts.allSatisfy { $0 <= 2 })
    }

    @Test func anUnreachableHostFailsAloneWithExitCodeThree() async throws {
        let fleet = try TestFleet(count: 3)
        defer { fleet.remove() }
        let plans = fleet.plans([("one", { _ in [run("true")] })])
        let sink = EventLog()
        let outcome = await fleet.run(
            plans, sink: sink,
            connector: LocalConnector(homes: fleet.homes, unreachable: ["web-2"]))

        #expect(outcome.exitCode == 3)
        #expect(outcome.summaries.map(\.unreachable) == [0, 1, 0])
        #expect(outcome.summaries.map(\.changed) == [1, 0, 1])
        #expect(outcome.summaries[1].failure
            == "web-2 (127.0.0.1:2202): connection refused; is sshd running on 127.0.0.1:2202?")
        #expect(outcome.record?.hosts[1].status == .unreachable)
    }

    @Test(arguments: [
        (serial: HostCount?.none, sizes: [5]),
        (serial: .count(2), sizes: [2, 2, 1]),
        (serial: .percent(40), sizes: [2, 2, 1]),
        (serial: .percent(10), sizes: [1, 1, 1, 1, 1]),
    ])
    func batchesFollowSerial(serial: HostCount?, sizes: [Int]) throws {
        let fleet = try TestFleet(count: 5)
        defer { fleet.remove() }
        let plans = fleet.plans([("one", { _ in [] })])
        #expect(Scheduler.batches(plans, serial: serial).map(\.count) == sizes)
    }
}
