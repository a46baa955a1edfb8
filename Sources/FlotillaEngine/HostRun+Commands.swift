// Running a step on a host: the guards (`when`, `creates`, `unless`), retries, and the
// command kinds (`run`, `script`), with their failures put in words a user can act on.

import FlotillaSupport
import FlotillaConfig
import FlotillaSSH
import FoundationEssentials

extension HostRun {
    /// Runs a step with its guards and retries.
    func execute(_ step: ResolvedStep) async -> StepOutcome {
        guard step.selected else { return StepOutcome(.skipped, "`when` does not match") }
        guard let connection else { return StepOutcome(.unreachable, "not connected") }

        // The guards change nothing on the host, so they run with --check too.
        if let creates = step.creates {
            let probe = "test -e \(RemoteProgram.remotePath(creates))"
            switch await guardCommand(probe, step, on: connection) {
            case .value(true): return StepOutcome(.skipped, "\(creates) exists")
            case .value(false): break
            case .stop(let outcome): return outcome
            }
        }
        if let unless = step.unless {
            switch await guardCommand(unless, step, on: connection) {
            case .value(true): return StepOutcome(.skipped, "`unless` command succeeded")
            case .value(false): break
            case .stop(let outcome): return outcome
            }
        }

        var attempt = 0
        while true {
            var outcome = await attemptOnce(step, on: connection)
            if outcome.status != .failed || outcome.exitClass == .interrupted
                || attempt >= step.retries || Task.isCancelled
            {
                if attempt > 0 {
                    outcome.message = (outcome.message.map { $0 + " " } ?? "")
                        + "(after \(attempt + 1) attempts)"
                }
                return outcome
            }
            attempt += 1
            hub.note(
                name, "retrying \(step.displayName) in \(Self.words(step.delay))"
                    + " (attempt \(attempt + 1))")
            do {
                try await Task.sleep(for: step.delay)
            } catch {
                return .interrupted()
            }
        }
    }

    private func attemptOnce(
        _ step: ResolvedStep, on connection: any HostConnection
    ) async -> StepOutcome {
        switch step.kind {
        case .run(let script):
            if context.options.check { return StepOutcome(.skipped, "would run (check mode)") }
            return await runScript(script, step, on: connection)
        case .script(let localPath, let contents, let args):
            if context.options.check { return StepOutcome(.skipped, "would run (check mode)") }
            return await runUploadedScript(localPath, contents, args, step, on: connection)
        case .upload(let localPath, let target):
            return await bounded(step) {
                await self.uploadLocal(localPath, to: target, step, on: connection)
            }
        case .template(_, let contents, let target):
            let file = DesiredFile(
                contents: contents, target: target, mode: step.mode ?? 0o644,
                parents: step.parents)
            return await bounded(step) { await self.install([file], step, on: connection) }
        case .secret(let contents, let target):
            let file = DesiredFile(
                contents: contents, target: target, mode: step.mode ?? 0o600,
                parents: step.parents)
            return await bounded(step) { await self.install([file], step, on: connection) }
        case .fetch(let remote, let local):
            return await bounded(step) {
                await self.fetch(remote, to: local, step, on: connection)
            }
        }
    }

    /// A file step has no remote command for its `timeout` to end, so the timeout bounds
    /// the whole transfer: past it the transfer is cancelled, which removes its temporary
    /// file, and the step fails. The target is swapped in by a rename, so it is whole.
    private func bounded(
        _ step: ResolvedStep, _ work: @escaping @Sendable () async -> StepOutcome
    ) async -> StepOutcome {
        guard let timeout = step.timeout else { return await work() }
        return await withTaskGroup(of: StepOutcome?.self) { group in
            group.addTask { await work() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            if let first { return first }
            // The timer ended first, or the run was interrupted and ended both.
            let late = await group.next() ?? nil
            if Task.isCancelled { return late ?? .interrupted() }
            if let late, late.status != .failed, late.status != .unreachable { return late }
            return StepOutcome(
                .failed,
                "timed out after \(Self.words(timeout)); the transfer was stopped and "
                    + "the target left as it was or fully replaced, never part-written",
                exitClass: .timedOut)
        }
    }

    /// A program with the step's environment, PATH, folder and privilege.
    func program(for step: ResolvedStep, payload: (String) -> String) -> RemoteProgram {
        var program = RemoteProgram(payload: "")
        program.payload = payload(program.tag)
        program.environment = step.env
        program.path = plan.host.path
        program.cwd = step.cwd
        if step.become { program.privilege = .sudo(password: context.becomePassword) }
        return program
    }

    /// Runs a guard; `true` when it exited 0.
    private func guardCommand(
        _ command: String, _ step: ResolvedStep, on connection: any HostConnection
    ) async -> StepCheck<Bool> {
        var program = program(for: step) { _ in command }
        program.timeout = step.timeout
        hub.note(name, "guard: \(command)")
        do {
            // A guard's answer is its status: its output is read in bounded lines and
            // dropped, never kept whole (`unless: cat big.log`).
            let result = try await RemoteRun.run(
                program, on: connection, shell: shell,
                channelTimeout: step.timeout.map { $0 + .seconds(30) },
                onGroup: { [groups] in groups.set($0, become: step.become) })
            groups.clear()
            if Task.isCancelled { return .stop(await interrupted()) }
            if let sudo = sudoProblem(result, step) { return .stop(sudo) }
            return .value(result.status.succeeded)
        } catch {
            groups.clear()
            if Task.isCancelled { return .stop(await interrupted()) }
            return .stop(StepOutcome.from(error))
        }
    }

    private func runScript(
        _ script: String, _ step: ResolvedStep, on connection: any HostConnection
    ) async -> StepOutcome {
        var program = program(for: step) { RemoteProgram.shellScript(script, tag: $0) }
        program.timeout = step.timeout
        hub.note(name, "$ " + script.replacingEvery("\n", with: "\n$ "))
        return await runCommand(program, step, script: script, on: connection)
    }

    private func runUploadedScript(
        _ localPath: String, _ contents: [UInt8], _ args: String?, _ step: ResolvedStep,
        on connection: any HostConnection
    ) async -> StepOutcome {
        tempCounter += 1
        let remote = absolute(tempFolder) + "/script-\(tempCounter)"
        do {
            _ = try await connection.upload(
                UploadRequest(contents: .bytes(contents), remotePath: remote, mode: 0o700),
                progress: nil)
        } catch {
            return .from(error)
        }
        let command = RemoteProgram.quote(remote) + (args.map { " " + $0 } ?? "")
        var program = program(for: step) { _ in command }
        program.timeout = step.timeout
        if step.lineEndingsNormalized {
            hub.note(name, "converted the CRLF line endings of \(localPath) to LF")
        }
        hub.note(name, "$ \(localPath)" + (args.map { " " + $0 } ?? ""))
        let outcome = await runCommand(program, step, script: nil, on: connection)
        await Task { try? await connection.remove(remote) }.value
        return outcome
    }

    /// Runs a command step and turns its result into an outcome.
    private func runCommand(
        _ program: RemoteProgram, _ step: ResolvedStep, script: String?,
        on connection: any HostConnection
    ) async -> StepOutcome {
        let hub = self.hub
        let name = self.name
        let result: RemoteRunResult
        do {
            result = try await RemoteRun.run(
                program, on: connection, shell: shell,
                channelTimeout: step.timeout.map { $0 + .seconds(30) },
                redactor: hub.redactor,
                onGroup: { [groups] in groups.set($0, become: step.become) },
                onLine: { stream, line, partial in
                    hub.output(name, stream, line, partial: partial)
                })
        } catch {
            if Task.isCancelled || error.code == .cancelled { return await interrupted() }
            groups.clear()
            var outcome = StepOutcome.from(error)
            // The command may still run, or may have ended either way: nobody can tell.
            if error.code == .connectionLost { outcome.exitStatus = .unknown }
            return outcome
        }
        if Task.isCancelled { return await interrupted() }
        groups.clear()
        return classify(result, step, script: script)
    }

    /// Ends what is still running and says so.
    func interrupted() async -> StepOutcome {
        await terminateRunning()
        return .interrupted("interrupted; the remote command was terminated")
    }

    private func classify(
        _ result: RemoteRunResult, _ step: ResolvedStep, script: String?
    ) -> StepOutcome {
        let status = result.status
        if result.timedOut, let timeout = step.timeout {
            return StepOutcome(
                .failed, "timed out after \(Self.words(timeout)); the command was terminated",
                exitStatus: status, exitClass: .timedOut)
        }
        if status.succeeded { return StepOutcome(.changed, exitStatus: status) }
        if let sudo = sudoProblem(result, step) { return sudo }
        if result.cwdFailed, let cwd = step.cwd {
            return StepOutcome(
                .failed, "cannot change to folder \(cwd) on \(name)", exitStatus: status)
        }
        switch status {
        case .exited(let code):
            var lineText: String?
            if let failed = result.failedLine, let script {
                let lines = script.split(separator: "\n", omittingEmptySubsequences: false)
                if failed.line >= 1, failed.line <= lines.count {
                    lineText = lines[failed.line - 1].trimmingBlanks()
                }
            }
            if code == 127 {
                let path = result.failedLine?.path ?? ""
                var text = "command not found (exit 127)"
                if let lineText { text += ": \(lineText)" }
                if !path.isEmpty { text += "; PATH was \(path)" }
                if plan.host.path.isEmpty {
                    text += "; tools installed per user (nvm) need `path` in the inventory"
                }
                return StepOutcome(.failed, text, exitStatus: status)
            }
            if let failed = result.failedLine, let lineText,
                let script, script.unicodeScalars.contains("\n")
            {
                return StepOutcome(
                    .failed, "line \(failed.line) failed (exit \(code)): \(lineText)",
                    exitStatus: status)
            }
            var text = "exited with status \(code)"
            if let last = result.stderrTail.last(where: { !$0.isEmpty }) {
                text += ": \(last)"
            }
            return StepOutcome(.failed, text, exitStatus: status)
        case .signalled(let signal):
            return StepOutcome(.failed, "terminated by SIG\(signal)", exitStatus: status)
        case .unknown:
            return StepOutcome(
                .failed, "exit status not reported by \(name) (channel closed early);"
                    + " the command's outcome is unknown", exitStatus: status)
        }
    }

    /// sudo refused to run without a password, or refused the one given.
    func sudoProblem(_ result: RemoteRunResult, _ step: ResolvedStep) -> StepOutcome? {
        guard step.become, !result.status.succeeded else { return nil }
        let text = result.stderrTail.joined(separator: "\n").lowercased()
        let needsPassword = ["a password is required", "a terminal is required",
                             "must have a tty", "no tty present"]
        if needsPassword.contains(where: text.contains) {
            return StepOutcome(
                .failed, "sudo on \(name) needs a password: set become_password in the"
                    + " playbook, or allow NOPASSWD for these commands",
                exitStatus: result.status)
        }
        if text.contains("incorrect password") || text.contains("sorry, try again") {
            let secret = context.becomePasswordName.map { " (secret \($0))" } ?? ""
            return StepOutcome(
                .failed, "sudo on \(name) refused the become password\(secret)",
                exitStatus: result.status)
        }
        if text.contains("is not in the sudoers file") || text.contains("not allowed to") {
            return StepOutcome(
                .failed, "sudo on \(name) does not allow \(plan.host.user) to run this;"
                    + " grant it in sudoers", exitStatus: result.status)
        }
        return nil
    }

    /// A remote path with `~` made absolute with the login user's home.
    func absolute(_ path: String) -> String {
        if path == "~" { return home }
        if path.hasPrefix("~/") { return home + "/" + path.dropFirst(2) }
        return path
    }

    static func words(_ duration: Duration) -> String {
        let seconds = Int(duration.components.seconds)
        if seconds == 0 { return "\(duration.components.attoseconds / 1_000_000_000_000_000)ms" }
        if seconds >= 3600, seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds >= 60, seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
