// One host's part of a run: its connection, lock and temp folder, the steps it ran and how
// they ended. The scheduler calls it stage by stage; one task at a time drives it.

import FlotillaConfig
import FlotillaSSH
import FoundationEssentials

actor HostRun {
    /// The host's work runs on the thread of its session, so calls into it need no switch.
    nonisolated let thread = SessionThread.next()
    nonisolated var unownedExecutor: UnownedSerialExecutor { thread.executor }

    let plan: HostPlan
    let context: RunContext
    nonisolated let name: String
    nonisolated let address: String
    let groups = ProcessGroupTracker()

    var connection: (any HostConnection)?
    /// The host's shell, when the connection has one: programs of the login user run in it.
    var shell: HostShell?
    var home = ""
    /// The pid of the host's shell, also its session: what a step started there belongs to.
    var shellProcess: Int?
    let lock: HostLock
    private var stageRecords: [RunRecord.StageRecord] = []
    private var summary: HostSummary
    private(set) var exitClass = ExitClass.success
    private(set) var hostStatus: RunRecord.HostRecord.Status?
    /// Steps before this index of the flattened plan were finished by the resumed run.
    private var resumeFrom = 0
    private var flatIndex = 0
    /// Stages this host ran to their end.
    private var stagesDone = 0
    var tempCounter = 0

    /// The host is connected and has not failed.
    var isAlive: Bool { connection != nil && hostStatus == nil }
    var hasFailed: Bool {
        hostStatus == .failed || hostStatus == .unreachable
    }

    var hub: EventHub { context.hub }
    var tempFolder: String { "~/.flotilla/tmp/" + context.runID }
    /// Whether a step of this host needs the run's temp folder; it is made only then.
    let usesTempFolder: Bool

    init(plan: HostPlan, context: RunContext) {
        self.plan = plan
        self.context = context
        name = plan.host.name
        address = Endpoint(host: plan.host.address, port: plan.host.port).description
        summary = HostSummary(host: plan.host.name, address: address)
        lock = HostLock(owner: context.lockOwner, runID: context.runID, since: Date())
        usesTempFolder = plan.stages.contains { $0.steps.contains(where: \.usesTempFolder) }
        if let finished = context.finishedSteps[plan.host.name] {
            let ids = plan.stages.flatMap { $0.steps.map(\.id) }
            resumeFrom = ids.firstIndex { !finished.contains($0) } ?? ids.count
        }
    }

    // MARK: connecting

    /// Connects, takes the lock and makes the temp folder. False when the host cannot go on.
    func connect(using connector: any HostConnector) async -> Bool {
        await withTaskExecutorPreference(thread.taskExecutor) { await connecting(connector) }
    }

    /// Everything the scheduler asks of a host runs with the host's thread preferred, so a
    /// wait that belongs to no actor resumes there too instead of crossing Swift's pool.
    private func connecting(_ connector: any HostConnector) async -> Bool {
        hub.emit(name, .connecting)
        let clock = ContinuousClock()
        let start = clock.now
        let opened: any HostConnection
        do {
            opened = try await thread.opening { () async throws(SSHError) in
                try await connector.connect(plan.host)
            }
        } catch {
            if Task.isCancelled || error.code == .cancelled {
                stop(.interrupted, .interrupted, "interrupted while connecting")
                return false
            }
            summary.unreachable += 1
            hub.emit(name, .unreachable(message: error.description))
            stop(.unreachable, Self.exitClass(of: error), error.description)
            return false
        }
        connection = opened
        hub.emit(
            name,
            .connected(hostKeyFingerprint: opened.hostKeyFingerprint, duration: clock.now - start))
        return await prepare(opened)
    }

    private func prepare(_ connection: any HostConnection) async -> Bool {
        let program = RemoteProgram(
            payload: lock.acquireProgram(
                tempFolder: usesTempFolder ? tempFolder : nil, lock: context.takesLock))
        shell = await HostShell.start(on: connection)
        if plan.stages.contains(where: { $0.steps.contains(where: \.transfersFiles) }) {
            // The SFTP channel opens while the lock is taken and the first steps run.
            Task { await connection.startSFTP() }
        }
        do {
            let result = try await RemoteRun.run(
                program, on: connection, shell: shell, capture: true,
                channelTimeout: .seconds(60))
            let lines = String(decoding: result.stdout, as: UTF8.self)
                .split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            guard result.status.succeeded, let first = lines.first, !first.isEmpty else {
                let why = result.stderrTail.last ?? result.status.description
                let what = usesTempFolder ? tempFolder : "~/.flotilla"
                fail(.stepFailed, "could not prepare \(what) on \(name): \(why)")
                return false
            }
            home = first
            if shell != nil, lines.count > 1 { shellProcess = Int(lines[1]) }
            if context.takesLock {
                if lines.count > 2, lines[2] == "locked" {
                    hub.note(name, "lock taken: \(HostLock.path)")
                } else {
                    let owner = lines.dropFirst(3).joined(separator: "\n")
                    fail(.stepFailed, HostLock.busyMessage(host: name, ownerFile: owner))
                    return false
                }
            }
            return true
        } catch {
            if Task.isCancelled {
                stop(.interrupted, .interrupted, "interrupted while connecting")
            } else {
                summary.unreachable += 1
                hub.emit(name, .unreachable(message: error.description))
                stop(.unreachable, Self.exitClass(of: error), error.description)
            }
            return false
        }
    }

    // MARK: stages

    /// Runs the steps of one stage, then the handlers they notified.
    func runStage(_ index: Int) async {
        await withTaskExecutorPreference(thread.taskExecutor) { await running(index) }
    }

    private func running(_ index: Int) async {
        guard isAlive, index < plan.stages.count else { return }
        let stage = plan.stages[index]
        var records: [RunRecord.StepRecord] = []
        var notified = Set<String>()
        for step in stage.steps {
            defer { flatIndex += 1 }
            if Task.isCancelled {
                stop(.interrupted, .interrupted, "interrupted before \(step.displayName)")
                break
            }
            if flatIndex < resumeFrom {
                let message = "finished in run \(context.resumedFrom ?? "before")"
                records.append(report(step, stage: stage.name, StepOutcome(.skipped, message)))
                continue
            }
            let (record, outcome) = await perform(step, stage: stage.name)
            records.append(record)
            if outcome.status == .changed { notified.formUnion(step.notify) }
            if outcome.stopsHost {
                stop(Self.hostStatus(after: outcome), outcome.exitClass,
                     "\(step.displayName): \(outcome.message ?? "failed")")
                break
            }
        }
        if isAlive && !Task.isCancelled {
            for handlerName in context.handlerOrder where notified.contains(handlerName) {
                guard let handler = plan.handlers[handlerName] else { continue }
                var step = handler
                step.id = "\(index)/handler:\(handlerName)"
                let (record, outcome) = await perform(step, stage: stage.name)
                records.append(record)
                if outcome.stopsHost {
                    stop(Self.hostStatus(after: outcome), outcome.exitClass,
                         "handler \(handlerName): \(outcome.message ?? "failed")")
                    break
                }
            }
        }
        stageRecords.append(RunRecord.StageRecord(name: stage.name, steps: records))
        if hostStatus == nil { stagesDone += 1 }
    }

    private func perform(_ step: ResolvedStep, stage: String) async
        -> (RunRecord.StepRecord, StepOutcome)
    {
        hub.emit(name, .stepStarted(stage: stage, step: step.displayName))
        let started = Date()
        let clock = ContinuousClock()
        let start = clock.now
        var outcome = await execute(step)
        if outcome.status == .failed, step.ignoreErrors, outcome.exitClass != .interrupted {
            outcome.ignored = true
            outcome.message = "ignored: " + (outcome.message ?? "failed")
        }
        let record = report(step, stage: stage, outcome, started: started,
                            duration: clock.now - start)
        return (record, outcome)
    }

    /// Counts the outcome, emits `stepFinished` and makes the step's record.
    private func report(
        _ step: ResolvedStep, stage: String, _ outcome: StepOutcome, started: Date = Date(),
        duration: Duration = .zero
    ) -> RunRecord.StepRecord {
        if outcome.ignored {
            summary.ignored += 1
        } else {
            switch outcome.status {
            case .ok: summary.ok += 1
            case .changed: summary.changed += 1
            case .skipped: summary.skipped += 1
            case .failed: summary.failed += 1
            case .unreachable: summary.unreachable += 1
            }
        }
        let message = outcome.message.map(hub.redactor.redact)
        if let status = outcome.exitStatus { hub.note(name, "exit status: \(status)") }
        hub.emit(
            name,
            .stepFinished(
                stage: stage, step: step.displayName, status: outcome.status,
                message: message, duration: duration))
        let (seconds, atto) = duration.components
        return RunRecord.StepRecord(
            id: step.id, name: hub.redactor.redact(step.displayName), status: outcome.status,
            ignored: outcome.ignored, started: started,
            duration: Double(seconds) + Double(atto) / 1e18, message: message,
            exitStatus: outcome.exitStatus.map(Self.recordText), files: outcome.files)
    }

    // MARK: ending

    /// Removes the temp folder, releases the lock, closes the connection, and reports.
    /// `notRunReason` says why the run stopped, for a host that did not run every stage.
    func finish(notRunReason: String? = nil) async -> RunRecord.HostRecord {
        await withTaskExecutorPreference(thread.taskExecutor) { await finishing(notRunReason) }
    }

    private func finishing(_ notRunReason: String?) async -> RunRecord.HostRecord {
        if hostStatus == .unreachable, let connection {
            // The connection is gone: there is nothing to clean up through it.
            await connection.close()
            self.connection = nil
            shell = nil
        }
        if let connection {
            // Cleaning up must happen even when the run was interrupted, so it runs in a
            // task of its own that the interrupt does not cancel.
            // The lock may have been taken by a preparation that an interrupt cut short
            // before its answer arrived: release whenever this run may hold it. The release
            // removes only a lock whose owner file names this run.
            let program = RemoteProgram(
                payload: lock.releaseProgram(
                    tempFolder: usesTempFolder ? tempFolder : nil, lock: context.takesLock))
            let name = self.name
            let hub = self.hub
            let shell = self.shell
            await Task {
                do {
                    _ = try await RemoteRun.run(
                        program, on: connection, shell: shell, capture: true,
                        channelTimeout: .seconds(10))
                } catch {
                    hub.note(name, "cleanup failed: \(error)")
                }
                // Closing the session ends the shell too, without a round trip of its own.
                await connection.close()
            }.value
            self.connection = nil
            self.shell = nil
        }
        if hostStatus == nil {
            if Task.isCancelled {
                stop(.interrupted, .interrupted, "interrupted")
            } else if let notRunReason, stagesDone < plan.stages.count {
                hostStatus = .notRun
                summary.failure = notRunReason
            } else {
                hostStatus = .finished
            }
        }
        summary = EventHub.redacted(summary, hub.redactor)
        hub.emit(name, .hostFinished(summary))
        return RunRecord.HostRecord(
            host: name, address: address, status: hostStatus ?? .finished, summary: summary,
            stages: stageRecords)
    }

    /// Ends the step still running on the host (interrupt): TERM to its process group, KILL
    /// after a short wait. Runs in a task the interrupt does not cancel.
    func terminateRunning() async {
        guard let connection else { return }
        guard let running = groups.take() else {
            await terminateUnannounced(on: connection)
            return
        }
        var program = RemoteProgram(payload: """
            kill -TERM -- -\(running.group) 2>/dev/null || exit 0
            for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
              kill -0 -- -\(running.group) 2>/dev/null || exit 0
              sleep 0.1
            done
            kill -KILL -- -\(running.group) 2>/dev/null
            exit 0
            """)
        if running.become { program.privilege = .sudo(password: context.becomePassword) }
        await end(
            program, on: connection,
            done: "remote process group \(running.group) terminated",
            failed: "could not confirm the end of process group \(running.group)")
    }

    /// A step interrupted before its process group reached Flotilla (it had just started)
    /// still runs in a group of the host shell's session: every group of that session but
    /// the shell's own is ended, TERM first, KILL a second later. /proc says which
    /// processes are in the session; fields 3 and 4 after the name are group and session.
    private func terminateUnannounced(on connection: any HostConnection) async {
        guard let shellProcess else { return }
        let program = RemoteProgram(payload: """
            s=\(shellProcess)
            for sig in TERM KILL; do
              for d in /proc/[0-9]*; do
                read -r t < "$d/stat" 2>/dev/null || continue
                set -- ${t##*) }
                [ "$4" = "$s" ] && [ "$3" != "$s" ] && kill -$sig -- "-$3" 2>/dev/null
              done
              [ $sig = TERM ] && sleep 1
            done
            exit 0
            """)
        await end(
            program, on: connection, done: "the host shell's jobs were terminated",
            failed: "could not end the host shell's jobs")
    }

    /// Runs a program that ends what an interrupt left running, in a task the interrupt
    /// does not cancel, and notes in the host's log how it went.
    private func end(
        _ program: RemoteProgram, on connection: any HostConnection, done: String,
        failed: String
    ) async {
        let name = self.name
        let hub = self.hub
        await Task {
            do {
                _ = try await RemoteRun.run(
                    program, on: connection, capture: true, channelTimeout: .seconds(6))
                hub.note(name, "interrupted: " + done)
            } catch {
                hub.note(name, "interrupted: \(failed): \(error)")
            }
        }.value
    }

    /// The host fails before any step (temp folder, lock): counted as one failed step.
    private func fail(_ exitClass: ExitClass, _ message: String) {
        if hostStatus == nil { summary.failed += 1 }
        stop(.failed, exitClass, message)
    }

    private func stop(
        _ status: RunRecord.HostRecord.Status, _ exitClass: ExitClass, _ message: String
    ) {
        guard hostStatus == nil else { return }
        hostStatus = status
        self.exitClass = max(self.exitClass, exitClass)
        summary.failure = hub.redactor.redact(message)
    }

    private static func hostStatus(after outcome: StepOutcome) -> RunRecord.HostRecord.Status {
        if outcome.exitClass == .interrupted { return .interrupted }
        return outcome.status == .unreachable ? .unreachable : .failed
    }

    /// What a connection error means for the run's exit code.
    static func exitClass(of error: SSHError) -> ExitClass {
        switch error.code {
        case .keyInvalid, .knownHostsInvalid: .badInput
        case .connectTimeout, .commandTimeout: .timedOut
        case .cancelled: .interrupted
        case .sftp, .missingParent, .diskFull, .permissionDenied: .stepFailed
        default: .unreachable
        }
    }

    static func recordText(_ status: ExitStatus) -> String {
        switch status {
        case .exited(let code): "exited(\(code))"
        case .signalled(let name): "signalled(\(name))"
        case .unknown: "unknown"
        }
    }
}
