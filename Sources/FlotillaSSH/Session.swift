import Foundation

/// One authenticated SSH connection to one host, kept for a whole run. Many channels (exec,
/// SFTP) run over it, one after another or at the same time.
public final class Session: Sendable {
    public let alias: String
    public let endpoint: Endpoint
    public let user: String
    /// The key the host presented, after it was verified.
    public let hostKey: HostKeyInfo

    init(alias: String, endpoint: Endpoint, user: String, hostKey: HostKeyInfo) {
        self.alias = alias
        self.endpoint = endpoint
        self.user = user
        self.hostKey = hostKey
    }

    /// Connects, verifies the host key and authenticates, each bounded by its timeout.
    public static func connect(_ options: ConnectOptions) async throws(SSHError) -> Session {
        fatalError("not built yet")
    }

    /// Runs `command` through the login shell. Output arrives in `output` as it comes, both
    /// streams drained together; `stdin` is written and then closed. Cancelling the calling
    /// task terminates the remote command and its children. A timeout ends the command
    /// the same way and throws `.commandTimeout`.
    public func exec(
        _ command: String, stdin: [UInt8] = [], timeout: Duration? = nil,
        output: @escaping @Sendable (OutputChunk) -> Void = { _ in }
    ) async throws(SSHError) -> ExecResult {
        fatalError("not built yet")
    }

    /// Writes a file atomically, or leaves it alone when its bytes and mode already match.
    public func upload(
        _ request: UploadRequest, progress: UploadProgress? = nil
    ) async throws(SSHError) -> UploadOutcome {
        fatalError("not built yet")
    }

    /// Reads a whole remote file.
    public func download(_ remotePath: String) async throws(SSHError) -> [UInt8] {
        fatalError("not built yet")
    }

    /// Information about a remote path, or nil when it does not exist.
    public func stat(_ remotePath: String) async throws(SSHError) -> RemoteFileInfo? {
        fatalError("not built yet")
    }

    /// Removes a remote file; a missing file is not an error.
    public func remove(_ remotePath: String) async throws(SSHError) {
        fatalError("not built yet")
    }

    /// Creates a remote folder (and its parents when asked).
    public func makeDirectory(
        _ remotePath: String, mode: UInt32 = 0o755, parents: Bool = false
    ) async throws(SSHError) {
        fatalError("not built yet")
    }

    /// Says goodbye to the server and frees everything. Safe to call twice.
    public func close() async {
        fatalError("not built yet")
    }
}

/// The libssh2 version this build runs with, for `flotilla version` and bug reports.
public var libssh2RuntimeVersion: String {
    "unknown"
}

extension Session {
    /// Connects and performs only the key exchange, returning the host key the server
    /// presents for each algorithm in `algorithms` (or its default when empty). Nothing is
    /// verified and nothing authenticated: this is what `flotilla trust` shows the user.
    public static func probeHostKeys(
        alias: String, endpoint: Endpoint, algorithms: [String] = [],
        timeout: Duration = .seconds(10)
    ) async throws(SSHError) -> [HostKeyInfo] {
        fatalError("not built yet")
    }
}
