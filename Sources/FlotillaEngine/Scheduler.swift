// Drives the hosts of a run: batch by batch (`serial`), stage by stage with a barrier, at
// most `forks` hosts connecting and at most `parallel` hosts in a stage at once; stops
// starting stages once more hosts failed than `max_failures` allows.

import FlotillaConfig
import FoundationEssentials

struct Scheduler: Sendable {
    let plans: [HostPlan]
    let stageNames: [String]
    let serial: HostCount?
    let maxFailures: HostCount?
    let context: RunContext
    let connector: any HostConnector

    /// Runs every batch; returns one record per host, in plan order, with how it ended.
    func run() async -> [(record: RunRecord.HostRecord, exitClass: ExitClass)] {
        let hub = context.hub
        let forks = max(1, context.options.forks)
        let allowed = maxFailures.map { $0.resolve(total: plans.count) }
        var records: [RunRecord.HostRecord] = []
        var classes: [ExitClass] = []
        var stopReason: String?

        for batch in Self.batches(plans, serial: serial) {
            let runs = batch.map { HostRun(plan: $0, context: context) }
            if stopReason == nil, !Task.isCancelled {
                _ = await Self.boundedMap(runs, width: forks) { run in
                    await run.connect(using: connector)
                }
                for (index, stage) in stageNames.enumerated() {
                    if Task.isCancelled { break }
                    var alive: [HostRun] = []
                    for run in runs where await run.isAlive { alive.append(run) }
                    if alive.isEmpty { break }
                    hub.emit(nil, .stageStarted(stage: stage, hosts: alive.map(\.name)))
                    let parallel = batch[0].stages[index].parallel ?? forks
                    _ = await Self.boundedMap(alive, width: min(forks, max(1, parallel))) {
                        await $0.runStage(index)
                    }
                    hub.emit(nil, .stageFinished(stage: stage))
                    var failed = records.filter { Self.isFailure($0.status) }.count
                    for run in runs where await run.hasFailed { failed += 1 }
                    if let allowed, failed > allowed {
                        stopReason = Self.stopText(failed: failed, allowed: allowed)
                        break
                    }
                }
            }
            // Every host of the batch is cleaned up and reported, also after an interrupt.
            let reason = stopReason
            let finished = await Self.boundedMap(runs, width: forks) { run in
                (await run.finish(notRunReason: reason), await run.exitClass)
            }
            records += finished.map(\.0)
            classes += finished.map(\.1)
            let failed = records.filter { Self.isFailure($0.status) }.count
            if stopReason == nil, let allowed, failed > allowed {
                stopReason = Self.stopText(failed: failed, allowed: allowed)
            }
        }
        return Array(zip(records, classes)).map { (record: $0.0, exitClass: $0.1) }
    }

    private static func isFailure(_ status: RunRecord.HostRecord.Status) -> Bool {
        status == .failed || status == .unreachable
    }

    private static func stopText(failed: Int, allowed: Int) -> String {
        "not run: the run stopped after \(failed) host(s) failed (max_failures \(allowed))"
    }

    /// Hosts in batches of `serial` (all at once without it).
    static func batches(_ plans: [HostPlan], serial: HostCount?) -> [[HostPlan]] {
        guard !plans.isEmpty else { return [] }
        guard let serial else { return [plans] }
        let size = max(1, serial.resolve(total: plans.count))
        return stride(from: 0, to: plans.count, by: size).map {
            Array(plans[$0..<min($0 + size, plans.count)])
        }
    }

    /// `body` for every item, at most `width` at once; results in the items' order.
    static func boundedMap<Item: Sendable, Result: Sendable>(
        _ items: [Item], width: Int, _ body: @escaping @Sendable (Item) async -> Result
    ) async -> [Result] {
        await withTaskGroup(of: (Int, Result).self) { group in
            var results = [Result?](repeating: nil, count: items.count)
            var next = 0
            while next < min(width, items.count) {
                let index = next
                group.addTask { (index, await body(items[index])) }
                next += 1
            }
            while let (index, result) = await group.next() {
                results[index] = result
                if next < items.count {
                    let index = next
                    group.addTask { (index, await body(items[index])) }
                    next += 1
                }
            }
            return results.map { $0! }
        }
    }
}
