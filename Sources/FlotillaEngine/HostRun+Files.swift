// File steps on a host: `upload`, `template`, `secret` and `fetch`. A file whose content,
// mode and owner already match is left alone (ok); with --check nothing is written and the
// step says what would change; with --diff the text change is shown (never for secrets).

import FlotillaSupport
import FlotillaConfig
import FlotillaSSH
import FoundationEssentials

/// One file a step wants on the host.
struct DesiredFile: Sendable {
    var contents: [UInt8]
    var target: String
    var mode: UInt32
    var parents: Bool
    /// The contents' SHA-256 when it is known already (a local file read once per run).
    var knownDigest: String? = nil

    var digest: String { knownDigest ?? Checksum.sha256Hex(contents) }
}

/// What the host has at a path.
private enum RemoteState: Equatable {
    case missing
    case notAFile
    case file(mode: UInt32, owner: String, group: String, sha256: String)
}

extension HostRun {
    func uploadLocal(
        _ localPath: String, to target: String, _ step: ResolvedStep,
        on connection: any HostConnection
    ) async -> StepOutcome {
        // The loader already joined the playbook's folder to the path.
        let path = localPath
        var isDirectory = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return StepOutcome(.failed, "local file \(path) is missing", exitClass: .badInput)
        }
        var files: [DesiredFile] = []
        do {
            if isDirectory {
                let entries = try FileManager.default.subpathsOfDirectory(atPath: path).sorted()
                for entry in entries {
                    let full = path + "/" + entry
                    var entryIsDirectory = false
                    _ = FileManager.default.fileExists(
                        atPath: full, isDirectory: &entryIsDirectory)
                    if entryIsDirectory { continue }
                    files.append(try localFile(
                        full, target: target + "/" + entry, mode: step.mode, parents: true))
                }
            } else {
                files.append(try localFile(
                    path, target: target, mode: step.mode, parents: step.parents))
            }
        } catch {
            return StepOutcome(
                .failed, "cannot read \(path): \(error.systemReason)", exitClass: .badInput)
        }
        return await install(files, step, on: connection)
    }

    private func localFile(
        _ path: String, target: String, mode: UInt32?, parents: Bool
    ) throws -> DesiredFile {
        let file = try context.localFiles.read(path)
        return DesiredFile(
            contents: file.contents, target: target, mode: mode ?? file.mode, parents: parents,
            knownDigest: file.sha256)
    }

    /// Writes the files that differ; reports ok when none does.
    func install(
        _ wanted: [DesiredFile], _ step: ResolvedStep, on connection: any HostConnection
    ) async -> StepOutcome {
        let files = wanted.map { file -> DesiredFile in
            var copy = file
            copy.target = absolute(file.target)
            return copy
        }
        if Self.writesDirectly(step) && !context.options.check && !context.options.diff {
            return await upload(files, step, on: connection)
        }
        let states: [RemoteState]
        switch await probe(files.map(\.target), step, on: connection) {
        case .value(let found): states = found
        case .stop(let outcome): return outcome
        }

        var changes: [(DesiredFile, RemoteState)] = []
        for (file, state) in zip(files, states) {
            let sha = file.digest
            if case .file(let mode, let owner, let group, let remoteSha) = state,
                remoteSha == sha, mode == file.mode & 0o7777,
                step.owner == nil || step.owner == owner, step.group == nil || step.group == group
            {
                continue
            }
            if state == .notAFile {
                return StepOutcome(.failed, "\(file.target) on \(name) exists and is not a file")
            }
            changes.append((file, state))
        }
        if changes.isEmpty { return StepOutcome(.ok) }

        var outcome = StepOutcome(.changed)
        outcome.files = changes.map {
            RunRecord.FileChange(path: $0.0.target, sha256: $0.0.digest)
        }
        if context.options.diff && !step.sensitive {
            for (file, state) in changes {
                await showDiff(file, state, step, on: connection)
            }
        }
        if context.options.check {
            outcome.message = "would write " + changes.map(\.0.target).joined(separator: ", ")
            return outcome
        }

        for (file, _) in changes {
            if let failure = await write(file, step, on: connection) { return failure }
        }
        outcome.message = changes.count == 1
            ? "wrote \(changes[0].0.target)" : "wrote \(changes.count) files"
        return outcome
    }

    /// The login user writes the file as itself: no owner, group or `become`.
    static func writesDirectly(_ step: ResolvedStep) -> Bool {
        !step.become && step.owner == nil && step.group == nil
    }

    /// Writes files the login user owns straight through SFTP. The upload itself compares
    /// size, mode and SHA-256 and leaves an identical file alone, so no command has to
    /// inspect the targets first: a step costs the host no process when nothing changed
    /// but the one `sha256sum`, and none at all for a new file.
    private func upload(
        _ files: [DesiredFile], _ step: ResolvedStep, on connection: any HostConnection
    ) async -> StepOutcome {
        var written: [DesiredFile] = []
        for file in files {
            let request = UploadRequest(
                contents: .bytes(file.contents), remotePath: file.target, mode: file.mode,
                createParents: file.parents)
            do {
                if try await connection.upload(request, progress: progress(for: step))
                    != .unchanged
                {
                    written.append(file)
                }
            } catch {
                if Task.isCancelled { return .interrupted() }
                return .from(error)
            }
        }
        if written.isEmpty { return StepOutcome(.ok) }
        var outcome = StepOutcome(.changed)
        outcome.files = written.map {
            RunRecord.FileChange(path: $0.target, sha256: $0.digest)
        }
        outcome.message = written.count == 1
            ? "wrote \(written[0].target)" : "wrote \(written.count) files"
        return outcome
    }

    private func progress(for step: ResolvedStep) -> UploadProgress {
        let hub = self.hub
        let name = self.name
        let stepName = step.displayName
        return { sent, total in
            hub.emit(name, .uploadProgress(step: stepName, sent: sent, total: total))
        }
    }

    /// Writes one file atomically: through SFTP when the login user writes it as itself,
    /// through a private temp copy and `sudo` when an owner or `become` is asked for.
    private func write(
        _ file: DesiredFile, _ step: ResolvedStep, on connection: any HostConnection
    ) async -> StepOutcome? {
        let progress = progress(for: step)
        if Self.writesDirectly(step) {
            let request = UploadRequest(
                contents: .bytes(file.contents), remotePath: file.target, mode: file.mode,
                createParents: file.parents)
            do {
                _ = try await connection.upload(request, progress: progress)
                return nil
            } catch {
                return .from(error)
            }
        }

        tempCounter += 1
        let temp = absolute(tempFolder) + "/file-\(tempCounter)"
        do {
            _ = try await connection.upload(
                UploadRequest(contents: .bytes(file.contents), remotePath: temp, mode: 0o600),
                progress: progress)
        } catch {
            return .from(error)
        }
        let target = RemoteProgram.quote(file.target)
        // The new file's name is this run's and this host's own: hosts that share a
        // filesystem (or one machine under two names) must not write each other's.
        let fresh = ".flotilla-new-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        var script = ["umask 077", "t=\(target)", "n=\"$t\(fresh)\""]
        if file.parents { script.append("mkdir -p -- \"$(dirname -- \"$t\")\" || exit 1") }
        var chain = ["rm -f -- \"$n\"", "cp -- \(RemoteProgram.quote(temp)) \"$n\""]
        if step.owner != nil || step.group != nil {
            let owner = (step.owner ?? "") + (step.group.map { ":" + $0 } ?? "")
            chain.append("chown -- \(RemoteProgram.quote(owner)) \"$n\"")
        }
        chain += [
            "chmod \(String(file.mode & 0o7777, radix: 8)) -- \"$n\"",
            "{ sync -- \"$n\" 2>/dev/null || true; }",
            "mv -f -- \"$n\" \"$t\"",
        ]
        script.append(chain.joined(separator: " && ") + " || { r=$?; rm -f -- \"$n\"; exit $r; }")
        let program = program(for: step) { _ in script.joined(separator: "\n") }
        do {
            let result = try await RemoteRun.run(
                program, on: connection, shell: shell, capture: true)
            await Task { try? await connection.remove(temp) }.value
            if result.status.succeeded { return nil }
            if let sudo = sudoProblem(result, step) { return sudo }
            let why = result.stderrTail.last(where: { !$0.isEmpty }) ?? result.status.description
            return StepOutcome(.failed, "cannot write \(file.target) on \(name): \(why)",
                               exitStatus: result.status)
        } catch {
            await Task { try? await connection.remove(temp) }.value
            return .from(error)
        }
    }

    /// Mode, owner, group and SHA-256 of each path, in one command (through sudo for
    /// `become`, since the targets may not be readable by the login user).
    private func probe(
        _ paths: [String], _ step: ResolvedStep, on connection: any HostConnection
    ) async -> StepCheck<[RemoteState]> {
        let list = paths.map(RemoteProgram.quote).joined(separator: " ")
        let script = """
            for f in \(list); do
              if [ -f "$f" ] && [ ! -L "$f" ]; then
                printf '%s %s\\n' "$(stat -c '%a %U %G' -- "$f")" \
                  "$(sha256sum -- "$f" | cut -c1-64)"
              elif [ -e "$f" ]; then echo other; else echo missing; fi
            done
            """
        var program = program(for: step) { _ in script }
        program.cwd = nil
        do {
            let result = try await RemoteRun.run(
                program, on: connection, shell: shell, capture: true)
            if let sudo = sudoProblem(result, step) { return .stop(sudo) }
            let lines = String(decoding: result.stdout, as: UTF8.self)
                .split(separator: "\n").map(String.init)
            guard result.status.succeeded, lines.count == paths.count else {
                let why = result.stderrTail.last ?? result.status.description
                return .stop(StepOutcome(.failed, "cannot inspect files on \(name): \(why)"))
            }
            return .value(lines.map(Self.state))
        } catch {
            if Task.isCancelled { return .stop(StepOutcome.interrupted()) }
            return .stop(StepOutcome.from(error))
        }
    }

    private static func state(_ line: String) -> RemoteState {
        let words = line.split(separator: " ").map(String.init)
        if words == ["missing"] { return .missing }
        guard words.count == 4, let mode = UInt32(words[0], radix: 8) else { return .notAFile }
        return .file(mode: mode & 0o7777, owner: words[1], group: words[2], sha256: words[3])
    }

    private func showDiff(
        _ file: DesiredFile, _ state: RemoteState, _ step: ResolvedStep,
        on connection: any HostConnection
    ) async {
        var old: [UInt8] = []
        if case .file = state {
            var program = program(for: step) { _ in "cat -- \(RemoteProgram.quote(file.target))" }
            program.cwd = nil
            guard let result = try? await RemoteRun.run(
                program, on: connection, shell: shell, capture: true),
                result.status.succeeded
            else { return }
            old = result.stdout
        }
        let lines = UnifiedDiff.lines(
            old: old, new: file.contents, oldName: file.target, newName: file.target)
        for line in lines {
            hub.output(name, .stdout, Array(line.utf8), partial: false)
        }
    }

    func fetch(
        _ remote: String, to local: String, _ step: ResolvedStep,
        on connection: any HostConnection
    ) async -> StepOutcome {
        let source = absolute(remote)
        var program = program(for: step) { _ in "cat -- \(RemoteProgram.quote(source))" }
        program.cwd = nil
        let bytes: [UInt8]
        do {
            let result = try await RemoteRun.run(
                program, on: connection, shell: shell, capture: true)
            guard result.status.succeeded else {
                if let sudo = sudoProblem(result, step) { return sudo }
                let why = result.stderrTail.last ?? result.status.description
                return StepOutcome(.failed, "cannot read \(source) on \(name): \(why)")
            }
            bytes = result.stdout
        } catch {
            if Task.isCancelled { return .interrupted() }
            return .from(error)
        }
        // Only the name's own parts are kept, so a fetched file cannot land outside the run.
        let parts = local.split(separator: "/").filter { $0 != ".." && $0 != "." }
        let folder = context.runFolder + "/fetched/" + RunLog.fileName(for: name)
        let destination = ([folder] + parts.map(String.init)).joined(separator: "/")
        do {
            // A fetched file may hold secrets: only the user running Flotilla may read it.
            try FileManager.default.createDirectory(
                atPath: LocalPath.folder(of: destination),
                withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard FileManager.default.createFile(
                atPath: destination, contents: Data(bytes),
                attributes: [.posixPermissions: 0o600])
            else {
                return StepOutcome(.failed, "cannot write \(destination)")
            }
        } catch {
            return StepOutcome(.failed, "cannot write \(destination): \(error.systemReason)")
        }
        var outcome = StepOutcome(.ok, "fetched \(bytes.count) bytes to \(destination)")
        outcome.files = [RunRecord.FileChange(
            path: destination, sha256: Checksum.sha256Hex(bytes))]
        return outcome
    }
}

extension ResolvedStep {
    /// Whether the step goes through the run's temp folder: an uploaded script, and a file
    /// that sudo or `chown` puts in place.
    var usesTempFolder: Bool {
        switch kind {
        case .script: true
        case .upload, .template, .secret: !HostRun.writesDirectly(self)
        case .run, .fetch: false
        }
    }

    /// The step sends a file over SFTP (a `script` is uploaded before it runs).
    var transfersFiles: Bool {
        switch kind {
        case .script, .upload, .template, .secret: true
        case .run, .fetch: false
        }
    }
}
