internal import CLibSSH2
import FoundationEssentials

extension Connection {
    /// Writes a file atomically: a temporary file in the target folder created with the final
    /// mode (so a secret is never readable by others), written with many requests in flight,
    /// synced, then renamed over the target. A target with the same bytes and mode is left
    /// alone; a target that is a folder, a link or anything but a plain file is refused.
    func upload(
        _ request: UploadRequest, progress: UploadProgress?
    ) async throws(SSHError) -> UploadOutcome {
        let contents = try Self.contents(of: request)
        await enterSFTPGate()
        defer { leaveSFTPGate() }
        let operation = makeOperation(timeout: nil, cancellable: true)
        let target = try await absolutePath(request.remotePath, operation)
        let mode = request.mode & 0o7777

        if let existing = try await sftpStat(target, following: false, operation) {
            let permissions = UInt32(truncatingIfNeeded: existing.permissions)
            guard permissions & UInt32(LIBSSH2_SFTP_S_IFMT) == UInt32(LIBSSH2_SFTP_S_IFREG)
            else {
                throw SSHError(
                    .sftp, alias: alias, endpoint: endpoint,
                    message: "\(target) on \(alias) exists and is not a file (a folder or a "
                        + "link); remove it first or choose another target")
            }
            if existing.filesize == UInt64(contents.count), permissions & 0o7777 == mode,
                try await remoteDigest(of: target) == SHA256Digest.hex(contents)
            {
                return .unchanged
            }
        }

        let parent = Self.parentFolder(of: target)
        let name = target.split(separator: "/").last.map(String.init) ?? "file"
        let temporary = parent + "/." + name + "." + CommandWrapper(command: "").marker
        let flags = LIBSSH2_FXF_WRITE | LIBSSH2_FXF_CREAT | LIBSSH2_FXF_EXCL | LIBSSH2_FXF_TRUNC
        let file: OpaquePointer
        do {
            file = try await sftpOpen(temporary, flags: flags, mode: mode, operation)
        } catch where error.code == .sftp {
            // Opening first and asking about the folder only when that fails saves a round
            // trip on every upload into a folder that exists.
            guard try await sftpStat(parent, operation) == nil else { throw error }
            guard request.createParents else {
                throw SSHError(
                    .missingParent, alias: alias, endpoint: endpoint,
                    message: "parent folder \(parent) does not exist on \(alias); create it in "
                        + "an earlier step or set `parents: true`")
            }
            try await sftpMakeDirectories(parent, mode: 0o755, operation)
            file = try await sftpOpen(temporary, flags: flags, mode: mode, operation)
        }
        do {
            // The server's umask may have narrowed the mode: set it exactly.
            var attributes = LIBSSH2_SFTP_ATTRIBUTES()
            attributes.flags = UInt(LIBSSH2_SFTP_ATTR_PERMISSIONS)
            attributes.permissions = UInt(mode)
            _ = try await call(operation, "setting the mode of", temporary) {
                libssh2_sftp_fstat_ex(file, &attributes, 1)
            }
            try await write(contents, to: file, path: temporary, target: target, operation,
                            progress: progress)
            let synced = try await perform(operation) { libssh2_sftp_fsync(file) }
            if synced != 0, sftpStatus() != LIBSSH2_FX_OP_UNSUPPORTED {
                throw sftpFailure(doing: "syncing", temporary)
            }
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
        await sftpClose(file)

        do {
            try await rename(temporary, over: target, operation)
        } catch {
            await removeQuietly(temporary)
            throw error
        }
        return .written(bytes: contents.count)
    }

    /// Keeps many write requests in flight: libssh2 splits a large buffer into packets and
    /// sends them ahead, returning what the server acknowledged.
    private func write(
        _ contents: [UInt8], to file: OpaquePointer, path: String, target: String,
        _ operation: Operation, progress: UploadProgress?
    ) async throws {
        var sent = 0
        progress?(0, contents.count)
        while sent < contents.count {
            let count = try await perform(operation) {
                contents.withUnsafeBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) {
                        libssh2_sftp_write(
                            file, $0.baseAddress! + sent, min($0.count - sent, Self.inFlight))
                    }
                }
            }
            if count < 0 {
                throw await writeFailure(
                    path: path, target: target, sent: sent, total: contents.count)
            }
            sent += count
            progress?(sent, contents.count)
            await Task.yield()
        }
    }

    /// How much of a file libssh2 may have on its way at once. libssh2 copies all of it into
    /// packets, so this is memory per host uploading; 256 KiB keeps a 20 ms round trip at
    /// about 12 MB/s per host while 500 hosts uploading together hold 125 MiB, not gigabytes.
    static let inFlight = 256 << 10

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

    /// Renames atomically over the target. SFTP version 3 (OpenSSH) refuses to rename over an
    /// existing file, so then `mv -f` (rename(2), also atomic) does it.
    private func rename(
        _ temporary: String, over target: String, _ operation: Operation
    ) async throws(SSHError) {
        let sftp = try await sftpSession(operation)
        let flags = LIBSSH2_SFTP_RENAME_OVERWRITE | LIBSSH2_SFTP_RENAME_ATOMIC
            | LIBSSH2_SFTP_RENAME_NATIVE
        let rc: Int32
        do {
            rc = try await perform(operation) {
                libssh2_sftp_rename_ex(
                    sftp, temporary, UInt32(temporary.utf8.count), target,
                    UInt32(target.utf8.count), Int(flags))
            }
        } catch {
            throw sftpInterrupted(error, doing: "renaming \(temporary)")
        }
        if rc == 0 { return }
        let status = sftpStatus()
        if status == LIBSSH2_FX_PERMISSION_DENIED { throw sftpFailure(doing: "replacing", target) }
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
