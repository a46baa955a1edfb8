// What the engine needs from a connection to one host. The scheduler and the step kinds talk
// to this protocol only, so they can be exercised on a local shell as well as over SSH.

import FlotillaConfig
import FlotillaSSH

protocol HostConnection: Sendable {
    /// The verified host key's fingerprint, for the `connected` event.
    var hostKeyFingerprint: String { get }

    func exec(
        _ command: String, stdin: [UInt8], timeout: Duration?,
        output: @escaping @Sendable (OutputChunk) -> Void
    ) async throws(SSHError) -> ExecResult

    func upload(
        _ request: UploadRequest, progress: UploadProgress?
    ) async throws(SSHError) -> UploadOutcome

    func download(_ remotePath: String) async throws(SSHError) -> [UInt8]

    func stat(_ remotePath: String) async throws(SSHError) -> RemoteFileInfo?

    func remove(_ remotePath: String) async throws(SSHError)

    func makeDirectory(
        _ remotePath: String, mode: UInt32, parents: Bool
    ) async throws(SSHError)

    /// Starts the host's shell (`HostShell`); nil where the connection has none.
    func openShell(_ command: String) async throws(SSHError) -> RemoteShell?

    func exchange(
        _ shell: RemoteShell, input: [UInt8], timeout: Duration?,
        output: @escaping @Sendable (OutputChunk) -> Void, until: @escaping @Sendable () -> Bool
    ) async throws(SSHError) -> Bool

    func closeShell(_ shell: RemoteShell) async

    /// Opens the file-transfer channel ahead of the first file step.
    func startSFTP() async

    func close() async
}

extension HostConnection {
    func openShell(_ command: String) async throws(SSHError) -> RemoteShell? { nil }

    func exchange(
        _ shell: RemoteShell, input: [UInt8], timeout: Duration?,
        output: @escaping @Sendable (OutputChunk) -> Void, until: @escaping @Sendable () -> Bool
    ) async throws(SSHError) -> Bool {
        false
    }

    func closeShell(_ shell: RemoteShell) async {}

    func startSFTP() async {}
}

/// Opens connections. One per host for the whole run.
protocol HostConnector: Sendable {
    func connect(_ host: InventoryHost) async throws(SSHError) -> any HostConnection
}

/// The connection the engine uses in a real run: a `FlotillaSSH.Session`.
struct SessionConnection: HostConnection {
    let session: Session

    var hostKeyFingerprint: String { session.hostKey.fingerprint }

    func exec(
        _ command: String, stdin: [UInt8], timeout: Duration?,
        output: @escaping @Sendable (OutputChunk) -> Void
    ) async throws(SSHError) -> ExecResult {
        try await session.exec(command, stdin: stdin, timeout: timeout, output: output)
    }

    func upload(
        _ request: UploadRequest, progress: UploadProgress?
    ) async throws(SSHError) -> UploadOutcome {
        try await session.upload(request, progress: progress)
    }

    func download(_ remotePath: String) async throws(SSHError) -> [UInt8] {
        try await session.download(remotePath)
    }

    func stat(_ remotePath: String) async throws(SSHError) -> RemoteFileInfo? {
        try await session.stat(remotePath)
    }

    func remove(_ remotePath: String) async throws(SSHError) {
        try await session.remove(remotePath)
    }

    func makeDirectory(
        _ remotePath: String, mode: UInt32, parents: Bool
    ) async throws(SSHError) {
        try await session.makeDirectory(remotePath, mode: mode, parents: parents)
    }

    func openShell(_ command: String) async throws(SSHError) -> RemoteShell? {
        try await session.openShell(command)
    }

    func exchange(
        _ shell: RemoteShell, input: [UInt8], timeout: Duration?,
        output: @escaping @Sendable (OutputChunk) -> Void, until: @escaping @Sendable () -> Bool
    ) async throws(SSHError) -> Bool {
        try await session.exchange(
            shell, input: input, timeout: timeout, output: output, until: until)
    }

    func closeShell(_ shell: RemoteShell) async {
        await session.closeShell(shell)
    }

    func startSFTP() async {
        await session.startSFTP()
    }

    func close() async {
        await session.close()
    }
}
