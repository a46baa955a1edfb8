internal import CLibSSH2

extension Connection {
    /// Handshake, host-key check, authentication and keepalives, in that order: nothing is
    /// sent to a host whose key was refused.
    func establish(
        _ options: ConnectOptions, verifier: HostKeyVerifier, bridge: JumpBridge?
    ) async throws(SSHError) -> HostKeyInfo {
        jumpBridge = bridge
        let deadline = ContinuousClock.now + options.handshakeTimeout
        try await awaitBanner(within: min(options.connectTimeout, options.handshakeTimeout))
        preferHostKeyAlgorithms(
            verifier.preferredAlgorithms(supported: supportedHostKeyAlgorithms()))
        let hostKey = try await handshake(timeout: options.handshakeTimeout, deadline: deadline)
        try verifier.verify(hostKey)
        try await authenticate(
            identities: options.identities, timeout: options.handshakeTimeout, deadline: deadline)
        if options.keepaliveInterval > .zero && options.keepaliveCount > 0 {
            startKeepalive(interval: options.keepaliveInterval, count: options.keepaliveCount)
        }
        return hostKey
    }

    /// Key exchange only, offering `algorithm` alone when given. Nil when the server has no
    /// host key of that type (or libssh2 cannot use it): the key exchange found nothing in
    /// common.
    func probe(algorithm: String?, timeout: Duration) async throws(SSHError) -> HostKeyInfo? {
        if let algorithm {
            guard libssh2_session_method_pref(session, LIBSSH2_METHOD_HOSTKEY, algorithm) == 0
            else { return nil }
        }
        do {
            return try await handshake(timeout: timeout, deadline: .now + timeout)
        } catch where error.code == .handshake
            && LibSSH2Runtime.lastError(session).code == LIBSSH2_ERROR_KEX_FAILURE
        {
            return nil
        }
    }

    func download(_ remotePath: String) async throws(SSHError) -> [UInt8] {
        await enterSFTPGate()
        defer { leaveSFTPGate() }
        let operation = makeOperation(timeout: nil, cancellable: true)
        let path = try await absolutePath(remotePath, operation)
        return try await sftpRead(path, operation)
    }

    func stat(_ remotePath: String) async throws(SSHError) -> RemoteFileInfo? {
        await enterSFTPGate()
        defer { leaveSFTPGate() }
        let operation = makeOperation(timeout: nil, cancellable: true)
        let path = try await absolutePath(remotePath, operation)
        guard let attributes = try await sftpStat(path, operation) else { return nil }
        let permissions = UInt32(truncatingIfNeeded: attributes.permissions)
        return RemoteFileInfo(
            size: UInt64(attributes.filesize), mode: permissions & 0o7777,
            isDirectory: permissions & UInt32(LIBSSH2_SFTP_S_IFMT) == UInt32(LIBSSH2_SFTP_S_IFDIR),
            uid: UInt32(truncatingIfNeeded: attributes.uid),
            gid: UInt32(truncatingIfNeeded: attributes.gid))
    }

    func remove(_ remotePath: String) async throws(SSHError) {
        await enterSFTPGate()
        defer { leaveSFTPGate() }
        let operation = makeOperation(timeout: nil, cancellable: true)
        let path = try await absolutePath(remotePath, operation)
        try await sftpRemove(path, operation)
    }

    func makeDirectory(_ remotePath: String, mode: UInt32, parents: Bool) async throws(SSHError) {
        await enterSFTPGate()
        defer { leaveSFTPGate() }
        let operation = makeOperation(timeout: nil, cancellable: true)
        let path = try await absolutePath(remotePath, operation)
        if parents {
            try await sftpMakeDirectories(path, mode: mode, operation)
            return
        }
        let parent = Self.parentFolder(of: path)
        if try await sftpStat(parent, operation) == nil {
            throw SSHError(
                .missingParent, alias: alias, endpoint: endpoint,
                message: "parent folder \(parent) does not exist on \(alias); create it first "
                    + "or set `parents: true`")
        }
        try await sftpMakeDirectory(path, mode: mode, operation)
    }
}
