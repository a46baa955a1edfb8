import FlotillaSupport
internal import CLibSSH2
import FoundationEssentials
import Synchronization

extension Connection {
    /// Writes a file atomically: a temporary file in the target folder created with the final
    /// mode (so a secret is never readable by others), written with many requests in flight,
    /// synced, then renamed over the target. A target with the same bytes and mode is left
    /// alone; a target that is a folder, a link or anything but a plain file is refused.
    ///
    /// Requests that do not wait on each other travel together: looking at the target with
    /// opening the temporary file, setting its mode with the first writes, closing it with
    /// the rename. A new file costs four round trips, not seven.
    func upload(
        _ request: UploadRequest, progress: UploadProgress?
    ) async throws(SSHError) -> UploadOutcome {
        let contents = try Self.contents(of: request)
        await enterSFTPGate()
        defer { leaveSFTPGate() }
        let operation = makeOperation(timeout: nil, cancellable: true)
        let target = try await absolutePath(request.remotePath, operation)
        let mode = request.mode & 0o7777
        let parent = Self.parentFolder(of: target)
        let name = target.split(separator: "/").last.map(String.init) ?? "file"
        let temporary = parent + "/." + name + "." + CommandWrapper(command: "").marker
        let flags = LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL | LIBSSH2_FXF_TRUNC

        let sftp = try await sftpSession(operation)
        var existing = LIBSSH2_SFTP_ATTRIBUTES()
        var targetState: Result<Bool, SSHError> = .success(false)
        // The handle travels as its address: a pointer is not Sendable.
        var openedAddress: UInt = 0
        var openFailure: SSHError?
        let whole: Bool
        do {
            whole = try await performEach(operation, count: 2) { index in
                if index == 0 {
                    let rc = libssh2_sftp_stat_ex(
                        sftp, target, UInt32(target.utf8.count), LIBSSH2_SFTP_LSTAT, &existing)
                    if rc == LIBSSH2_ERROR_EAGAIN { return .waiting }
                    if rc == 0 {
                        targetState = .success(true)
                        return .finished
                    }
                    let status = sftpStatus()
                    if status == LIBSSH2_FX_NO_SUCH_FILE || status == LIBSSH2_FX_NO_SUCH_PATH {
                        return .finished
                    }
                    targetState = .failure(sftpFailure(doing: "reading", target))
                    return status == nil ? .broken : .finished
                }
                let handle = libssh2_sftp_open_ex(
                    sftp, temporary, UInt32(temporary.utf8.count), UInt(flags), Int(mode),
                    LIBSSH2_SFTP_OPENFILE)
                if handle == nil && libssh2_session_last_errno(session) == LIBSSH2_ERROR_EAGAIN {
                    return .waiting
                }
                if let handle {
                    openedAddress = UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(handle)))
                    return .finished
                }
                openFailure = sftpFailure(doing: "opening", temporary)
                return sftpStatus() == nil ? .broken : .finished
            }
        } catch {
            // The server may have made the file even if its answer never came.
            let failure = sftpInterrupted(error, doing: "uploading \(target)")
            await removeQuietly(temporary)
            throw failure
        }
        if !whole {
            // The channel is unusable: a later request gets a fresh one.
            abandonSFTP()
            if case .failure(let error) = targetState { throw error }
            throw openFailure ?? failure(.sftp, "the SFTP server's answer made no sense")
        }

        // What the target is decides whether the new file is wanted at all.
        do {
            if try targetState.get() {
                let permissions = UInt32(truncatingIfNeeded: existing.permissions)
                guard permissions & UInt32(LIBSSH2_SFTP_S_IFMT) == UInt32(LIBSSH2_SFTP_S_IFREG)
                else {
                    throw SSHError(
                        .sftp, alias: alias, endpoint: endpoint,
                        message: "\(target) on \(alias) exists and is not a file (a folder or "
                            + "a link); remove it first or choose another target")
                }
                if existing.filesize == UInt64(contents.count), permissions & 0o7777 == mode,
                    try await remoteDigest(of: target) == SHA256Digest.hex(contents)
                {
                    throw Unchanged()
                }
            }
        } catch let unchanged as Unchanged {
            _ = unchanged
            await discard(openedAddress, temporary)
            return .unchanged
        } catch let error as SSHError {
            await discard(openedAddress, temporary)
            throw error
        } catch {
            preconditionFailure("unexpected error \(error)")
        }

        let file: OpaquePointer
        switch (OpaquePointer(bitPattern: openedAddress), openFailure) {
        case (let handle?, _):
            file = handle
        case (nil, let error?) where error.code == .sftp:
            // Asking about the folder only when opening failed saves a round trip on every
            // upload into a folder that exists.
            guard try await sftpStat(parent, operation) == nil else { throw error }
            guard request.createParents else {
                throw SSHError(
                    .missingParent, alias: alias, endpoint: endpoint,
                    message: "parent folder \(parent) does not exist on \(alias); create it in "
                        + "an earlier step or set `parents: true`")
            }
            try await sftpMakeDirectories(parent, mode: 0o755, operation)
            file = try await sftpOpen(temporary, flags: flags, mode: mode, operation)
        case (nil, let error?):
            throw error
        case (nil, nil):
            preconditionFailure("the temporary file was neither opened nor refused")
        }

        do {
            let window = Self.uploadWindow()
            defer { Self.uploading.subtract(1, ordering: .relaxed) }
            // A file that goes out as one write request is synced in the same round trip:
            // the server handles requests in order, so the sync follows the write.
            let syncAlong = contents.count <= Self.oneWrite
                && libssh2_channel_window_write_ex(libssh2_sftp_get_channel(sftp), nil)
                    >= UInt(contents.count + 1024)
            let (sent, synced) = try await setModeAndStartWriting(
                file, mode: mode, contents, window: window, sync: syncAlong, path: temporary,
                target: target, operation)
            // A sync that went out ahead of bytes still to be written covers none of them.
            var sync = sent == contents.count ? synced : .notSent
            try await write(contents, from: sent, window: window, to: file, path: temporary,
                            target: target, operation, progress: progress)
            if case .notSent = sync {
                let rc = try await perform(operation) { libssh2_sftp_fsync(file) }
                sync = syncOutcome(rc, path: temporary)
            }
            if case .failed(let failure) = sync { throw failure }
        } catch let error as SSHError {
            await sftpClose(file)
            await removeQuietly(temporary)
            throw error
        } catch let interruption as Interruption {
            let error = sftpInterrupted(interruption, doing: "uploading \(target)")
            await removeQuietly(temporary)
            throw error
        } catch {
            preconditionFailure("unexpected error \(error)")
        }

        do {
            try await closeAndRename(file, temporary, over: target, operation)
        } catch {
            await removeQuietly(temporary)
            throw error
        }
        return .written(bytes: contents.count)
    }

    /// The target already holds these bytes with this mode.
    private struct Unchanged: Error {}

    /// Closes and removes a temporary file that is not wanted after all.
    private func discard(_ openedAddress: UInt, _ temporary: String) async {
        guard let file = OpaquePointer(bitPattern: openedAddress) else { return }
        await sftpClose(file)
        await removeQuietly(temporary)
    }

    /// The most libssh2 puts in one write request (its MAX_SFTP_OUTGOING_SIZE).
    static let oneWrite = 30_000

    /// What became of a sync.
    private enum Sync {
        case notSent
        case done
        case failed(SSHError)
    }

    /// What an fsync's result `rc` means, read at once: the status of a later request
    /// replaces the one it left. A server without the fsync extension is no failure.
    private func syncOutcome(_ rc: Int32, path: String) -> Sync {
        guard rc != 0, sftpStatus() != LIBSSH2_FX_OP_UNSUPPORTED else { return .done }
        return .failed(sftpFailure(doing: "syncing", path))
    }

    /// Sets the mode exactly (the server's umask may have narrowed it) while the first
    /// writes are on their way, and with `sync` syncs behind them; returns how many bytes
    /// the server has acknowledged, and what became of the sync.
    private func setModeAndStartWriting(
        _ file: OpaquePointer, mode: UInt32, _ contents: [UInt8], window: Int, sync: Bool,
        path: String, target: String, _ operation: Operation
    ) async throws -> (Int, synced: Sync) {
        var attributes = LIBSSH2_SFTP_ATTRIBUTES()
        attributes.flags = UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS)
        attributes.permissions = UInt(mode)
        var modeFailure: SSHError?
        var written = 0
        var synced = Sync.notSent
        enum Request { case mode, write, sync }
        let requests: [Request] = [.mode] + (contents.isEmpty ? [] : [.write])
            + (sync ? [.sync] : [])
        let whole = try await performEach(operation, count: requests.count) { index in
            switch requests[index] {
            case .mode:
                let rc = libssh2_sftp_fstat_ex(file, &attributes, 1)
                if rc == LIBSSH2_ERROR_EAGAIN { return .waiting }
                if rc == 0 { return .finished }
                modeFailure = sftpFailure(doing: "setting the mode of", path)
                return sftpStatus() == nil ? .broken : .finished
            case .sync:
                let rc = libssh2_sftp_fsync(file)
                if rc == LIBSSH2_ERROR_EAGAIN { return .waiting }
                synced = syncOutcome(rc, path: path)
                return rc == 0 || sftpStatus() != nil ? .finished : .broken
            case .write:
                break
            }
            let count = contents.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) {
                    libssh2_sftp_write(file, $0.baseAddress!, min($0.count, window))
                }
            }
            if count == LIBSSH2_ERROR_EAGAIN { return .waiting }
            written = count
            return .finished
        }
        if !whole { abandonSFTP() }
        if let modeFailure { throw modeFailure }
        if written < 0 {
            throw await writeFailure(path: path, target: target, sent: 0, total: contents.count)
        }
        return (written, synced)
    }

    /// Keeps many write requests in flight: libssh2 splits a large buffer into packets and
    /// sends them ahead, returning what the server acknowledged.
    private func write(
        _ contents: [UInt8], from start: Int, window: Int, to file: OpaquePointer,
        path: String, target: String, _ operation: Operation, progress: UploadProgress?
    ) async throws {
        var sent = start
        progress?(sent, contents.count)
        while sent < contents.count {
            let count = try await perform(operation) {
                contents.withUnsafeBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) {
                        libssh2_sftp_write(
                            file, $0.baseAddress! + sent, min($0.count - sent, window))
                    }
                }
            }
            if count < 0 {
                throw await writeFailure(
                    path: path, target: target, sent: sent, total: contents.count)
            }
            sent += count
            progress?(sent, contents.count)
            await loop.yield()
        }
    }

    /// How much of a file libssh2 may have on its way at once, at most. libssh2 copies all
    /// of it into packets, so this is memory per host uploading: 256 KiB keeps a 20 ms round
    /// trip at about 12 MB/s per host.
    static let inFlight = 256 << 10

    /// Uploads writing right now, in every session.
    static let uploading = Atomic<Int>(0)

    /// The window of an upload that starts now: all uploads together keep at most 16 MiB on
    /// their way (500 hosts uploading at once hold 32 KiB each, not 125 MiB together), and
    /// never less than 32 KiB each. Counts this upload until the caller subtracts it.
    private static func uploadWindow() -> Int {
        let others = uploading.add(1, ordering: .relaxed).newValue
        return max(32 << 10, min(inFlight, (16 << 20) / others))
    }

    /// SFTP version 3 reports a full disk as a generic failure: statvfs tells the truth.
    private func writeFailure(
        path: String, target: String, sent: Int, total: Int
    ) async -> SSHError {
        let original = sftpFailure(doing: "writing", path)
        let status = sftpStatus()
        let parent = Self.parentFolder(of: target)
        var available: UInt64?
        if let sftp, status == LIBSSH2_FX_FAILURE || original.code == .diskFull {
            var stats = LIBSSH2_SFTP_STATVFS()
            let operation = makeOperation(timeout: .seconds(10), cancellable: false)
            let rc = try? await perform(operation) {
                libssh2_sftp_statvfs(sftp, parent, parent.utf8.count, &stats)
            }
            if rc == 0 { available = stats.f_bavail * stats.f_frsize }
        }
        let remaining = UInt64(total - sent)
        if original.code == .diskFull || (available.map { $0 < remaining } ?? false) {
            let free = available.map { ", \(Self.byteText($0)) available" } ?? ""
            return SSHError(
                .diskFull, alias: alias, endpoint: endpoint,
                message: "no space left on \(alias):\(parent) while uploading \(target): wrote "
                    + "\(Self.byteText(UInt64(sent))) of \(Self.byteText(UInt64(total)))\(free); "
                    + "the target was left untouched; free some space and run again",
                detail: original.detail)
        }
        return original
    }

    /// Closes the synced file and renames it atomically over the target, both in one round
    /// trip. SFTP version 3 (OpenSSH) refuses to rename over an existing file, so then
    /// `mv -f` (rename(2), also atomic) does it.
    private func closeAndRename(
        _ file: OpaquePointer, _ temporary: String, over target: String, _ operation: Operation
    ) async throws(SSHError) {
        let sftp = try await sftpSession(operation)
        let flags = LIBSSH2_SFTP_RENAME_OVERWRITE | LIBSSH2_SFTP_RENAME_ATOMIC
            | LIBSSH2_SFTP_RENAME_NATIVE
        var renamed: Int32 = 0
        var status: UInt?
        var failure: SSHError?
        let whole: Bool
        do {
            whole = try await performEach(operation, count: 2) { index in
                if index == 0 {
                    let rc = libssh2_sftp_close_handle(file)
                    if rc == LIBSSH2_ERROR_EAGAIN { return .waiting }
                    // A failed close after a successful sync loses nothing.
                    return rc == 0 || sftpStatus() != nil ? .finished : .broken
                }
                let rc = libssh2_sftp_rename_ex(
                    sftp, temporary, UInt32(temporary.utf8.count), target,
                    UInt32(target.utf8.count), Int(flags))
                if rc == LIBSSH2_ERROR_EAGAIN { return .waiting }
                renamed = rc
                if rc != 0 {
                    status = sftpStatus()
                    failure = sftpFailure(doing: "replacing", target)
                    if status == nil { return .broken }
                }
                return .finished
            }
        } catch {
            throw sftpInterrupted(error, doing: "renaming \(temporary)")
        }
        if !whole {
            abandonSFTP()
            throw failure ?? self.failure(.sftp, "closing \(temporary) failed")
        }
        if renamed == 0 { return }
        if status == LIBSSH2_FX_PERMISSION_DENIED, let failure { throw failure }
        let moved = try await run(
            "mv -f -- \(Self.quoted(temporary)) \(Self.quoted(target))", timeout: .seconds(30))
        guard moved.exit.status == 0 else {
            let reason = String(decoding: moved.stderr, as: UTF8.self).trimmingWhitespace()
            throw SSHError(
                .sftp, alias: alias, endpoint: endpoint,
                message: "replacing \(alias):\(target) failed: \(reason)")
        }
    }

    private func removeQuietly(_ path: String) async {
        guard lostError == nil else { return }
        let operation = makeOperation(timeout: .seconds(10), cancellable: false)
        try? await sftpRemove(path, operation)
    }

    /// SHA-256 of a remote file, or nil when it cannot be computed there.
    private func remoteDigest(of path: String) async throws(SSHError) -> String? {
        let result = try await run("sha256sum -- \(Self.quoted(path))", timeout: .seconds(120))
        guard result.exit.status == 0 else { return nil }
        let text = String(decoding: result.stdout.prefix(64), as: UTF8.self)
        return text.count == 64 ? text : nil
    }

    private static func contents(of request: UploadRequest) throws(SSHError) -> [UInt8] {
        switch request.contents {
        case .bytes(let bytes):
            return bytes
        case .localFile(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SSHError(
                    .sftp, message: "cannot read the local file \(path); check that it exists "
                        + "and is readable")
            }
            return [UInt8](data)
        }
    }

    static func parentFolder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        if slash == path.startIndex { return "/" }
        return String(path[..<slash])
    }

    /// A single-quoted shell word.
    static func quoted(_ text: String) -> String {
        "'" + text.replacingEvery("'", with: "'\\''") + "'"
    }

    static func byteText(_ bytes: UInt64) -> String {
        if bytes < 1024 { return "\(bytes) bytes" }
        if bytes < 1 << 20 { return (Double(bytes) / 1024).text(places: 1) + " KiB" }
        return (Double(bytes) / 1_048_576).text(places: 1) + " MiB"
    }
}
