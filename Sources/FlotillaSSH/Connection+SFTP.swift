internal import CLibSSH2

/// The thin SFTP layer: one call each, EAGAIN handled, failures named with the path.
/// Callers hold `sftpGate`, because libssh2 keeps one request's state per SFTP session.
extension Connection {
    /// Opens the SFTP channel ahead of the first file operation; a failure is left for that
    /// operation to report.
    func startSFTP() async {
        await enterSFTPGate()
        defer { leaveSFTPGate() }
        _ = try? await sftpSession(makeOperation(timeout: .seconds(60), cancellable: true))
    }

    func sftpSession(_ operation: Operation) async throws(SSHError) -> OpaquePointer {
        if let sftp { return sftp }
        await enterChannelGate()
        defer { leaveChannelGate() }
        if let sftp { return sftp }
        let session = self.session
        let opened: OpaquePointer?
        do {
            opened = try await performPointer(operation) { libssh2_sftp_init(session) }
        } catch {
            throw interrupted(error, doing: "starting SFTP")
        }
        guard let opened else {
            throw failure(
                .sftp, "the server offers no SFTP subsystem; enable `Subsystem sftp` in its "
                    + "sshd_config")
        }
        sftp = opened
        return opened
    }

    /// A request abandoned half-way (cancelled, lost) leaves libssh2's SFTP state in the middle
    /// of it, so later requests use a fresh SFTP channel; the old one is shut down on close.
    func sftpInterrupted(_ interruption: Interruption, doing what: String) -> SSHError {
        abandonSFTP()
        return interrupted(interruption, doing: what)
    }

    /// Leaves the SFTP channel behind (a request cut short, or an answer that made no
    /// sense): later requests open a fresh one, and this one is shut down on close.
    func abandonSFTP() {
        if let sftp { abandonedSFTP.append(sftp) }
        sftp = nil
    }

    /// `~/x` and `~` are the login user's home, as SFTP's realpath of "." reports it.
    func absolutePath(_ path: String, _ operation: Operation) async throws(SSHError) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        if homeFolder == nil {
            let sftp = try await sftpSession(operation)
            var buffer = [CChar](repeating: 0, count: 4096)
            let length = try await call(operation, "finding the home folder of", ".") {
                buffer.withUnsafeMutableBufferPointer {
                    libssh2_sftp_symlink_ex(
                        sftp, ".", 1, $0.baseAddress, UInt32($0.count), LIBSSH2_SFTP_REALPATH)
                }
            }
            homeFolder = String(
                decoding: buffer[..<Int(length)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        let home = homeFolder ?? "."
        return path == "~" ? home : home + path.dropFirst(1)
    }

    /// Attributes of a path, or nil when it does not exist.
    /// Attributes of `path`, or nil when it does not exist. `following: false` describes a
    /// symbolic link itself rather than what it points to.
    func sftpStat(_ path: String, following: Bool = true, _ operation: Operation)
        async throws(SSHError) -> LIBSSH2_SFTP_ATTRIBUTES?
    {
        let sftp = try await sftpSession(operation)
        var attributes = LIBSSH2_SFTP_ATTRIBUTES()
        let kind = following ? LIBSSH2_SFTP_STAT : LIBSSH2_SFTP_LSTAT
        let rc: Int32
        do {
            rc = try await perform(operation) {
                libssh2_sftp_stat_ex(sftp, path, UInt32(path.utf8.count), kind, &attributes)
            }
        } catch {
            throw sftpInterrupted(error, doing: "reading \(path)")
        }
        if rc == 0 { return attributes }
        let status = sftpStatus()
        if status == LIBSSH2_FX_NO_SUCH_FILE || status == LIBSSH2_FX_NO_SUCH_PATH { return nil }
        throw sftpFailure(doing: "reading", path)
    }

    func sftpMakeDirectory(
        _ path: String, mode: UInt32, _ operation: Operation
    ) async throws(SSHError) {
        let sftp = try await sftpSession(operation)
        _ = try await call(operation, "creating the folder", path) {
            libssh2_sftp_mkdir_ex(sftp, path, UInt32(path.utf8.count), Int(mode))
        }
    }

    /// Creates `path` and any missing folder above it.
    func sftpMakeDirectories(
        _ path: String, mode: UInt32, _ operation: Operation
    ) async throws(SSHError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            prefix += "/" + component
            if let existing = try await sftpStat(prefix, operation) {
                if existing.permissions & UInt(LIBSSH2_SFTP_S_IFMT) != UInt(LIBSSH2_SFTP_S_IFDIR) {
                    throw SSHError(
                        .sftp, alias: alias, endpoint: endpoint,
                        message: "\(prefix) exists on \(alias) but is not a folder")
                }
                continue
            }
            try await sftpMakeDirectory(prefix, mode: mode, operation)
        }
    }

    /// Removes a file; a missing file is fine.
    func sftpRemove(_ path: String, _ operation: Operation) async throws(SSHError) {
        let sftp = try await sftpSession(operation)
        let rc: Int32
        do {
            rc = try await perform(operation) {
                libssh2_sftp_unlink_ex(sftp, path, UInt32(path.utf8.count))
            }
        } catch {
            throw sftpInterrupted(error, doing: "removing \(path)")
        }
        let status = sftpStatus()
        if rc == 0 || status == LIBSSH2_FX_NO_SUCH_FILE || status == LIBSSH2_FX_NO_SUCH_PATH {
            return
        }
        throw sftpFailure(doing: "removing", path)
    }

    func sftpOpen(
        _ path: String, flags: Int32, mode: UInt32, _ operation: Operation
    ) async throws(SSHError) -> OpaquePointer {
        let sftp = try await sftpSession(operation)
        let handle: OpaquePointer?
        do {
            handle = try await performPointer(operation) {
                libssh2_sftp_open_ex(
                    sftp, path, UInt32(path.utf8.count), UInt(flags), Int(mode),
                    LIBSSH2_SFTP_OPENFILE)
            }
        } catch {
            throw sftpInterrupted(error, doing: "opening \(path)")
        }
        guard let handle else { throw sftpFailure(doing: "opening", path) }
        return handle
    }

    func sftpClose(_ handle: OpaquePointer) async {
        let operation = makeOperation(timeout: .seconds(10), cancellable: false)
        _ = try? await perform(operation) { libssh2_sftp_close_handle(handle) }
    }

    /// Reads a whole remote file.
    func sftpRead(_ path: String, _ operation: Operation) async throws(SSHError) -> [UInt8] {
        let handle = try await sftpOpen(path, flags: LIBSSH2_FXF_READ, mode: 0, operation)
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 262_144)
        do {
            while true {
                let count = try await call(operation, "reading", path) {
                    buffer.withUnsafeMutableBufferPointer { bytes in
                        bytes.withMemoryRebound(to: CChar.self) {
                            libssh2_sftp_read(handle, $0.baseAddress, $0.count)
                        }
                    }
                }
                if count == 0 { break }
                contents.append(contentsOf: buffer[..<count])
                await loop.yield()
            }
        } catch {
            await sftpClose(handle)
            throw error
        }
        await sftpClose(handle)
        return contents
    }

    /// Runs one SFTP call; a negative result becomes an error naming `what` and `path`.
    func call<T: BinaryInteger>(
        _ operation: Operation, _ what: String, _ path: String, _ body: () -> T
    ) async throws(SSHError) -> T {
        let result: T
        do {
            result = try await perform(operation, body)
        } catch {
            throw sftpInterrupted(error, doing: "\(what) \(path)")
        }
        if result < 0 { throw sftpFailure(doing: what, path) }
        return result
    }

    /// The SFTP status of the last failed call, or nil when the failure was not SFTP's.
    func sftpStatus() -> UInt? {
        guard let sftp,
            libssh2_session_last_errno(session) == LIBSSH2_ERROR_SFTP_PROTOCOL
        else { return nil }
        return UInt(libssh2_sftp_last_error(sftp))
    }

    func sftpFailure(doing what: String, _ path: String) -> SSHError {
        let status = sftpStatus()
        let place = "\(alias):\(path)"
        let detail = status.map { "SFTP status \(Self.statusName($0))" }
        switch status {
        case LIBSSH2_FX_PERMISSION_DENIED, LIBSSH2_FX_WRITE_PROTECT:
            return SSHError(
                .permissionDenied, alias: alias, endpoint: endpoint,
                message: "permission denied \(what) \(place) as \(user); use a path \(user) "
                    + "may write, or `become: true`", detail: detail)
        case LIBSSH2_FX_NO_SUCH_FILE, LIBSSH2_FX_NO_SUCH_PATH:
            return SSHError(
                .sftp, alias: alias, endpoint: endpoint,
                message: "\(path) does not exist on \(alias) (\(what) it)", detail: detail)
        case LIBSSH2_FX_NO_SPACE_ON_FILESYSTEM, LIBSSH2_FX_QUOTA_EXCEEDED:
            return SSHError(
                .diskFull, alias: alias, endpoint: endpoint,
                message: "no space left \(what) \(place)", detail: detail)
        case .some:
            return SSHError(
                .sftp, alias: alias, endpoint: endpoint,
                message: "\(what) \(place) failed", detail: detail)
        case nil:
            return failure(.sftp, "\(what) \(place) failed")
        }
    }

    static func statusName(_ status: UInt) -> String {
        let names = [
            "OK", "EOF", "NO_SUCH_FILE", "PERMISSION_DENIED", "FAILURE", "BAD_MESSAGE",
            "NO_CONNECTION", "CONNECTION_LOST", "OP_UNSUPPORTED", "INVALID_HANDLE",
            "NO_SUCH_PATH", "FILE_ALREADY_EXISTS", "WRITE_PROTECT", "NO_MEDIA",
            "NO_SPACE_ON_FILESYSTEM", "QUOTA_EXCEEDED", "UNKNOWN_PRINCIPAL", "LOCK_CONFLICT",
            "DIR_NOT_EMPTY", "NOT_A_DIRECTORY", "INVALID_FILENAME", "LINK_LOOP",
        ]
        return status < names.count ? "\(status) (\(names[Int(status)]))" : "\(status)"
    }
}
