import FlotillaConfig
import FlotillaSandbox
import Foundation
import Testing

@testable import FlotillaEngine

@Suite struct RunLifecycleTests {
    @Test func handlersRunOnceAtTheEndOfAStageOnlyWhereANotifyingStepChanged() async throws {
        let fleet = try TestFleet(count: 2)
        defer { fleet.remove() }
        // web-1 already has the file, so only web-2 changes it.
        try "v1\n".write(
            toFile: fleet.home("web-1") + "/app.conf", atomically: true, encoding: .utf8)
        var conf = step(.template(localPath: "t", contents: Array("v1\n".utf8), to: "~/app.conf"))
        conf.notify = ["restart"]
        var again = step(.template(localPath: "t", contents: Array("x\n".utf8), to: "~/other"))
        again.notify = ["restart", "reload"]
        var handler = run("echo restart >> \"$HOME/restarts\"", name: "restart")
        handler.id = "handler"
        let reload = run("echo reload >> \"$HOME/restarts\"", name: "reload")
        let plans = fleet.plans(
            [("one", { host in host == "web-1" ? [conf] : [conf, again] }),
             ("two", { _ in [run("cat \"$HOME/restarts\" >> \"$HOME/seen\" || true")] })],
            handlers: { _ in ["restart": handler, "reload": reload] })
        let playbook = Playbook(
            path: fleet.folder + "/p.yml", name: "h", hosts: "all", stages: [],
            handlers: [Handler(name: "reload", step: Step(kind: .run("x"))),
                       Handler(name: "restart", step: Step(kind: .run("x")))])
        let outcome = await fleet.run(plans, playbook: playbook)

        #expect(outcome.exitCode == 0)
        #expect(read(fleet.home("web-1") + "/restarts") == nil)
        // Once, in declaration order, before the next stage started.
        #expect(read(fleet.home("web-2") + "/restarts") == "reload\nrestart\n")
        #expect(read(fleet.home("web-2") + "/seen") == "reload\nrestart\n")
        let ids = outcome.record?.hosts[1].stages[0].steps.map(\.id)
        #expect(ids == ["0/0", "0/1", "0/handler:reload", "0/handler:restart"])
    }

    @Test func resumeRunsOnlyWhatTheLastRunLeft() async throws {
        let fleet = try TestFleet(count: 2)
        defer { fleet.remove() }
        let flag = fleet.folder + "/broken"
        FileManager.default.createFile(atPath: flag, contents: nil)
        let count = "echo x >> \"$HOME/count-%d\""
        let plans = fleet.plans([
            ("one", { _ in [run(String(format: count, 1))] }),
            ("two", { host in
                [run(host == "web-2" ? "test ! -e \(flag)" : "true", name: "check"),
                 run(String(format: count, 2))]
            }),
        ])
        let first = await fleet.run(plans)
        #expect(first.exitCode == 1)

        try FileManager.default.removeItem(atPath: flag)
        var options = RunOptions()
        options.resume = true
        let second = await fleet.run(plans, options: options)
        #expect(second.exitCode == 0)
        #expect(second.record?.options.resumedFrom == first.record?.runID)
        // web-1 had finished: nothing ran again. web-2 continued at the failed step.
        #expect(read(fleet.home("web-1") + "/count-1") == "x\n")
        #expect(read(fleet.home("web-1") + "/count-2") == "x\n")
        #expect(read(fleet.home("web-2") + "/count-1") == "x\n")
        #expect(read(fleet.home("web-2") + "/count-2") == "x\n")
        #expect(second.summaries.map(\.skipped) == [3, 1])
        #expect(second.summaries.map(\.changed) == [0, 2])
    }

    /// The lock is a file; earlier releases made a folder with an `owner` file inside, and
    /// a run of theirs must keep its host too.
    @Test(arguments: [false, true])
    func aSecondRunOnALockedHostFailsFastNamingTheHolder(earlierFolder: Bool) async throws {
        let fleet = try TestFleet(count: 2)
        defer { fleet.remove() }
        let lock = fleet.home("web-2") + "/.flotilla/lock"
        let holder = earlierFolder ? lock + "/owner" : lock
        try FileManager.default.createDirectory(
            atPath: earlierFolder ? lock : fleet.home("web-2") + "/.flotilla",
            withIntermediateDirectories: true)
        try "owner=alice@laptop\npid=4242\nrun=20261203T175001Z-3fa2\nsince=2026-12-03T17:50:01Z\n"
            .write(toFile: holder, atomically: true, encoding: .utf8)
        let plans = fleet.plans([("one", { _ in [run("touch \"$HOME/ran\"")] })])
        let clock = ContinuousClock()
        let start = clock.now
        let outcome = await fleet.run(plans)

        // A bound against waiting on a lock nobody will release; over SSH it is tighter.
        #expect(clock.now - start < .seconds(60))
        #expect(outcome.exitCode == 1)
        #expect(outcome.summaries[1].failure == "web-2 is locked by alice@laptop"
            + " (run 20261203T175001Z-3fa2) since 2026-12-03T17:50:01Z; if that run is gone,"
            + " run `rm -r ~/.flotilla/lock` on web-2")
        #expect(!FileManager.default.fileExists(atPath: fleet.home("web-2") + "/ran"))
        // The holder's lock is left alone; ours on web-1 is released.
        #expect(read(holder)?.contains("run=20261203T175001Z-3fa2\n") == true)
        #expect(!FileManager.default.fileExists(atPath: fleet.home("web-1") + "/.flotilla/lock"))
    }

    @Test func twoConcurrentRunsOnOneHostLetOnlyOneIn() async throws {
        let fleet = try TestFleet(count: 1)
        defer { fleet.remove() }
        // The first run holds the lock until the test lets it go.
        let go = fleet.folder + "/go"
        let plans = fleet.plans([("one", { _ in
            [run("while [ ! -e \(RemoteProgram.quote(go)) ]; do sleep 0.05; done")]
        })])
        async let first = fleet.run(plans)
        // The second starts once the first holds the lock, however busy the machine is.
        try await waitUntil(.seconds(30)) {
            FileManager.default.fileExists(atPath: fleet.home("web-1") + "/.flotilla/lock")
        }
        let second = await fleet.run(plans)
        // The refused run leaves the holder's lock alone while the holder still runs.
        let owner = read(fleet.home("web-1") + "/.flotilla/lock") ?? ""
        FileManager.default.createFile(atPath: go, contents: nil)
        let firstOutcome = await first
        #expect(owner.contains("run=\(firstOutcome.record!.runID)\n"), "\(owner)")
        #expect(!FileManager.default.fileExists(atPath: fleet.home("web-1") + "/.flotilla/lock"))
        #expect(firstOutcome.exitCode == 0)
        #expect(second.exitCode == 1)
        let failure = try #require(second.summaries[0].failure)
        #expect(failure.hasPrefix("web-1 is locked by "))
        #expect(failure.contains("(run \(firstOutcome.record!.runID))"))
    }

    @Test func anInterruptEndsRemoteCommandsCleansUpAndExits130() async throws {
        let fleet = try TestFleet(count: 3)
        defer { fleet.remove() }
        // A duration no other test uses, so the process can be found by its arguments.
        let seconds = 600 + Int.random(in: 1...999)
        let plans = fleet.plans([("long", { _ in [run("sleep \(seconds)")] })])
        let task = Task { await fleet.run(plans) }
        // A bound against hangs: beside the whole suite, three local shells can be slow.
        try await waitUntil(.seconds(90)) { processes(matching: "sleep \(seconds)") == 3 }

        let clock = ContinuousClock()
        let start = clock.now
        task.cancel()
        let outcome = await task.value
        // A bound against hangs: local shells are slow to start on a busy machine. The
        // product's 8 seconds are checked over SSH in SandboxRunTests.
        #expect(clock.now - start < .seconds(30))
        #expect(outcome.exitCode == 130)
        #expect(processes(matching: "sleep \(seconds)") == 0)
        for host in fleet.hosts.map(\.name) {
            let home = fleet.home(host)
            // Nothing is left behind (a run of `run` steps makes no temp folder at all).
            let temp = try? FileManager.default.contentsOfDirectory(atPath: home + "/.flotilla/tmp")
            #expect(temp?.isEmpty ?? true)
            #expect(!FileManager.default.fileExists(atPath: home + "/.flotilla/lock"))
            #expect(FileManager.default.fileExists(atPath: outcome.runFolder + "/\(host).log"))
        }
        let record = try RunRecord.decode(
            Data(contentsOf: URL(fileURLWithPath: outcome.runFolder + "/run.json")))
        #expect(record.interrupted && record.exitCode == 130)
        #expect(record.hosts.map(\.status) == [.interrupted, .interrupted, .interrupted])
    }
}

/// How many processes have exactly this command line.
func processes(matching commandLine: String) -> Int {
    LocalProcesses.count(commandLine: commandLine)
}

/// Polls `condition` until it holds or `limit` passes.
func waitUntil(_ limit: Duration, _ condition: () -> Bool) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + limit
    while !condition() {
        guard clock.now < deadline else {
            Issue.record("condition not met within \(limit)")
            return
        }
        try await Task.sleep(for: .milliseconds(50))
    }
}
