import FoundationEssentials

/// One authenticated SSH connection to one host, kept for a whole run. Many channels (exec,
/// SFTP) run over it, one after another or at the same time.
public final class Session: Sendable {
    public let alias: String
    public let endpoint: Endpoint
    public let user: String
    /// The key the host presented, after it was verified.
    public let hostKey: HostKeyInfo
    let connection: Connection

    init(connection: Connection, hostKey: HostKeyInfo) {
        self.alias = connection.alias
        self.endpoint = connection.endpoint
        self.user = connection.user
        self.hostKey = hostKey
        self.connection = connection
    }

    /// Connects, verifies the host key and authenticates, each bounded by its timeout.
    public static func connect(_ options: ConnectOptions) async throws(SSHError) -> Session {
        LibSSH2Runtime.ensureInitialized()
        let verifier = try HostKeyVerifier(
            policy: options.hostKeys, alias: options.alias, endpoint: options.endpoint)

        var bridge: JumpBridge?
        let socket: Int32
        if let jump = options.jump {
            (bridge, socket) = try await JumpBridge.open(
                through: jump, to: options.endpoint, alias: options.alias,
                timeout: options.connectTimeout)
        } else {
            socket = try await TCPConnector(
                alias: options.alias, endpoint: options.endpoint,
                timeout: options.connectTimeout, loop: EventLoop.next()
            ).connect()
        }
        guard let handle = SessionHandle(socket: socket) else {
            await bridge?.stop()
            throw SSHError(
                .handshake, alias: options.alias, endpoint: options.endpoint,
                message: "libssh2 could not create a session (out of memory?)")
        }
        let connection = Connection(
            loop: EventLoop.next(), handle: handle, alias: options.alias,
            endpoint: options.endpoint, user: options.user)
        do {
            let hostKey = try await connection.establish(
                options, verifier: verifier, bridge: bridge)
            return Session(connection: connection, hostKey: hostKey)
        } catch {
            await connection.close(politely: false)
            throw error
        }
    }

    /// Runs `command` through the login shell. Output arrives in `output` as it comes, both
    /// streams drained together; `stdin` is written and then closed. Cancelling the calling
    /// task terminates the remote command and its children. A timeout ends the command
    /// the same way and throws `.commandTimeout`.
    ///
    /// The command runs in a subshell of a small POSIX sh wrapper (see `CommandWrapper`), so
    /// the login shell must understand sh syntax (bash, dash, zsh, ksh; not fish or csh).
    public func exec(
        _ command: String, stdin: [UInt8] = [], timeout: Duration? = nil,
        output: @escaping @Sendable (OutputChunk) -> Void = { _ in }
    ) async throws(SSHError) -> ExecResult {
        try await connection.exec(command, stdin: stdin, timeout: timeout, output: output)
    }

    /// Starts `command` on a channel of its own and keeps its stdin open, for a sequence of
    /// `exchange` calls: a shell that runs many small programs over one channel.
    public func openShell(_ command: String) async throws(SSHError) -> RemoteShell {
        RemoteShell(id: try await connection.openShell(command))
    }

    /// Sends `input` to the shell and delivers its output until `until` returns true (the
    /// result is then true), or the shell ends (false). Throws, and closes the shell, on a
    /// timeout, a cancellation or a lost connection. One exchange at a time per shell.
    public func exchange(
        _ shell: RemoteShell, input: [UInt8], timeout: Duration? = nil,
        output: @escaping @Sendable (OutputChunk) -> Void,
        until: @escaping @Sendable () -> Bool
    ) async throws(SSHError) -> Bool {
        try await connection.exchange(
            shell: shell.id, input: input, timeout: timeout, output: output, until: until)
    }

    /// Ends the shell's input and frees its channel.
    public func closeShell(_ shell: RemoteShell) async {
        await connection.closeShell(shell.id)
    }

    /// Writes a file atomically, or leaves it alone when its bytes and mode already match.
    public func upload(
        _ request: UploadRequest, progress: UploadProgress? = nil
    ) async throws(SSHError) -> UploadOutcome {
        try await connection.upload(request, progress: progress)
    }

    /// Opens the SFTP channel now, so the first upload does not wait for it; any failure is
    /// reported by the first file operation.
    public func startSFTP() async {
        await connection.startSFTP()
    }

    /// Reads a whole remote file.
    public func download(_ remotePath: String) async throws(SSHError) -> [UInt8] {
        try await connection.download(remotePath)
    }

    /// Information about a remote path, or nil when it does not exist.
    public func stat(_ remotePath: String) async throws(SSHError) -> RemoteFileInfo? {
        try await connection.stat(remotePath)
    }

    /// Removes a remote file; a missing file is not an error.
    public func remove(_ remotePath: String) async throws(SSHError) {
        try await connection.remove(remotePath)
    }

    /// Creates a remote folder (and its parents when asked).
    public func makeDirectory(
        _ remotePath: String, mode: UInt32 = 0o755, parents: Bool = false
    ) async throws(SSHError) {
        try await connection.makeDirectory(remotePath, mode: mode, parents: parents)
    }

    /// Says goodbye to the server and frees everything. Safe to call twice.
    public func close() async {
        await connection.close()
    }
}

/// The libssh2 version this build runs with, for `flotilla version` and bug reports.
public var libssh2RuntimeVersion: String {
    LibSSH2Runtime.version
}

extension Session {
    /// Connects and performs only the key exchange, returning the host key the server
    /// presents for each algorithm in `algorithms` (or its default when empty). Nothing is
    /// verified and nothing authenticated: this is what `flotilla trust` shows the user.
    ///
    /// An algorithm the server does not offer is left out. Any other failure (a timeout, a
    /// dropped connection) is tried once more and then thrown: a key that could not be
    /// fetched is never silently missing from the answer.
    public static func probeHostKeys(
        alias: String, endpoint: Endpoint, algorithms: [String] = [],
        timeout: Duration = .seconds(10)
    ) async throws(SSHError) -> [HostKeyInfo] {
        LibSSH2Runtime.ensureInitialized()
        var keys: [HostKeyInfo] = []
        var notOffered: SSHError?
        let choices: [String?] = algorithms.isEmpty ? [nil] : algorithms.map { $0 }
        for algorithm in choices {
            let outcome: ProbeOutcome
            do {
                outcome = try await probeOnce(
                    alias: alias, endpoint: endpoint, algorithm: algorithm, timeout: timeout)
            } catch where error.code != .connect && error.code != .resolve {
                outcome = try await probeOnce(
                    alias: alias, endpoint: endpoint, algorithm: algorithm, timeout: timeout)
            }
            switch outcome {
            case .key(let key): if !keys.contains(key) { keys.append(key) }
            case .notOffered(let error): notOffered = notOffered ?? error
            }
        }
        if keys.isEmpty, let notOffered { throw notOffered }
        return keys
    }

    private enum ProbeOutcome {
        case key(HostKeyInfo)
        case notOffered(SSHError)
    }

    private static func probeOnce(
        alias: String, endpoint: Endpoint, algorithm: String?, timeout: Duration
    ) async throws(SSHError) -> ProbeOutcome {
        let loop = EventLoop.next()
        let socket = try await TCPConnector(
            alias: alias, endpoint: endpoint, timeout: timeout, loop: loop
        ).connect()
        guard let handle = SessionHandle(socket: socket) else {
            throw SSHError(
                .handshake, alias: alias, endpoint: endpoint,
                message: "libssh2 could not start a session (out of memory?)")
        }
        let connection = Connection(
            loop: loop, handle: handle, alias: alias, endpoint: endpoint, user: "")
        do {
            let key = try await connection.probe(algorithm: algorithm, timeout: timeout)
            await connection.close()
            return key.map(ProbeOutcome.key) ?? .notOffered(SSHError(
                .handshake, alias: alias, endpoint: endpoint,
                message: "the server offers no host key of type \(algorithm ?? "any")"))
        } catch {
            await connection.close()
            throw error
        }
    }
}
