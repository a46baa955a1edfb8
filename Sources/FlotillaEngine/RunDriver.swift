// A whole run from start to end: the run folder, the redactor, resume, the scheduler, the
// exit code, `run.json`, and the first and last events.

import FlotillaSupport
import FlotillaConfig
import FlotillaSSH
import FoundationEssentials

struct RunDriver: Sendable {
    var playbook: Playbook
    var plans: [HostPlan]
    var inventory: Inventory
    var secrets: Secrets
    var options: RunOptions
    var sink: any RunEventSink
    var connector: any HostConnector
    var environment: [String: String]
    /// False for `flotilla exec`, which takes no lock.
    var takesLock = true

    func run() async -> RunOutcome {
        let runID = RunIdentity.makeID()
        let runFolder = options.logsFolder + "/" + runID
        let playbookPath = RunIdentity.absolute(playbook.path)
        let inventoryFiles = inventory.files.map(RunIdentity.absolute)

        // Secrets first: nothing may be emitted before the redactor knows them.
        let becomeSecret = options.becomePassword ?? playbook.becomePassword
        let becomePassword = becomeSecret.flatMap { secrets.values[$0] }
        // Each value, and each line and KEY=VALUE value of a multi-line one (a .env file).
        var secretValues = secrets.redactionStrings
        if let becomePassword { secretValues.append(becomePassword) }
        secretValues += passphrases()
        let redactor = Redactor(secrets: secretValues)

        do {
            try FileManager.default.createDirectory(
                atPath: runFolder, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        } catch {
            let summaries = plans.map {
                HostSummary(
                    host: $0.host.name, address: Self.address($0.host),
                    failure: "cannot create the run folder \(runFolder): \(error.systemReason)")
            }
            sink.receive(RunEvent(
                host: nil,
                kind: .runFinished(exitCode: 2, summaries: summaries, runFolder: runFolder)))
            return RunOutcome(exitCode: 2, summaries: summaries, runFolder: runFolder)
        }
        let log = RunLog(folder: runFolder)
        let hub = EventHub(sink: sink, redactor: redactor, log: log)

        let resume = options.resume
            ? ResumePoint.find(
                logsFolder: options.logsFolder, playbook: playbookPath,
                inventory: inventoryFiles, excluding: runID)
            : nil
        let plans = selectedStages(self.plans)
        let stageNames = plans.first?.stages.map(\.name) ?? []
        let context = RunContext(
            runID: runID, runFolder: runFolder, options: options, hub: hub,
            handlerOrder: playbook.handlers.map(\.name), becomePassword: becomePassword,
            becomePasswordName: becomeSecret,
            lockOwner: RunIdentity.operatorName(environment: environment),
            takesLock: takesLock, finishedSteps: resume?.finished ?? [:],
            resumedFrom: resume?.runID)

        var record = RunRecord(
            runID: runID, playbook: playbookPath, playbookName: playbook.name,
            inventory: inventoryFiles,
            inputHash: RunIdentity.inputHash(files: [playbookPath] + inventoryFiles),
            started: Date(), finished: nil, exitCode: nil, interrupted: false,
            options: RunRecord.Options(
                check: options.check, diff: options.diff, forks: options.forks,
                resume: options.resume, stages: options.stages, resumedFrom: resume?.runID),
            hosts: [])
        hub.emit(nil, .runStarted(
            runID: runID, playbook: playbook.name, hosts: plans.map(\.host.name),
            stages: stageNames, runFolder: runFolder,
            secrets: secretValues.filter { !$0.isEmpty }))

        let scheduler = Scheduler(
            plans: plans, stageNames: stageNames, serial: playbook.serial,
            maxFailures: playbook.maxFailures, context: context, connector: connector)
        let results = await scheduler.run()
        if let sessions = connector as? SessionConnector { await sessions.closeJumps() }

        var exitClass = results.map(\.exitClass).max() ?? .success
        if Task.isCancelled { exitClass = .interrupted }
        record.hosts = results.map(\.record)
        record.finished = Date()
        record.exitCode = exitClass.rawValue
        record.interrupted = exitClass == .interrupted
        if let data = try? record.encoded() {
            // The record's texts are redacted already; this pass also catches any value that
            // reached it some other way.
            let safe = Data(redactor.redact(Array(data)))
            // A full disk loses the file but not the outcome: the caller still gets the
            // record, and `--output json` prints it.
            _ = FileManager.default.createFile(
                atPath: runFolder + "/run.json", contents: safe,
                attributes: [.posixPermissions: 0o600])
        }
        log.closeAll()

        let summaries = record.hosts.map(\.summary)
        hub.emit(nil, .runFinished(
            exitCode: exitClass.rawValue, summaries: summaries, runFolder: runFolder))
        var outcome = RunOutcome(
            exitCode: exitClass.rawValue, summaries: summaries, runFolder: runFolder)
        outcome.record = record
        return outcome
    }

    /// Only the stages `--stage` names (all when none is named).
    private func selectedStages(_ plans: [HostPlan]) -> [HostPlan] {
        guard !options.stages.isEmpty else { return plans }
        return plans.map { plan in
            var copy = plan
            copy.stages = plan.stages.filter { options.stages.contains($0.name) }
            return copy
        }
    }

    /// Key passphrases that can be read without running anything, so they are redacted too.
    private func passphrases() -> [String] {
        var values: [String] = []
        for host in plans.map(\.host) {
            switch host.passphrase {
            case .env(let name): if let value = environment[name] { values.append(value) }
            case .file(let path):
                if let data = FileManager.default.contents(atPath: path) {
                    values.append(
                        String(decoding: data, as: UTF8.self).trimming(while: \.isLineBreak))
                }
            case .command, nil: break
            }
        }
        return values
    }

    static func address(_ host: InventoryHost) -> String {
        Endpoint(host: host.address, port: host.port).description
    }
}
