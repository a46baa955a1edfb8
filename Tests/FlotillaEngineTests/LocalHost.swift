// A stand-in for an SSH host: commands run in a local shell with their own HOME, files go
// to the local disk. Like sshd, ending a command whose channel is gone leaves its process
// group running, so the engine's own clean-up is what the tests observe.

import FlotillaConfig
import FlotillaSSH
import Foundation
import Synchronization

@testable import FlotillaEngine

struct LocalConnector: HostConnector {
    /// Host name → its home folder.
    let homes: [String: String]
    /// Hosts that refuse connections.
    var unreachable: Set<String> = []
    /// Run commands as this Unix user (through runuser) instead of root.
    var user: String?

    func connect(_ host: InventoryHost) async throws(SSHError) -> any HostConnection {
        let endpoint = Endpoint(host: host.address, port: host.port)
        if unreachable.contains(host.name) {
            throw SSHError(
                .connect, alias: host.name, endpoint: endpoint,
                message: "connection refused; is sshd running on \(endpoint)?")
        }
        guard let home = homes[host.name] else {
            throw SSHError(.resolve, alias: host.name, message: "no such test host")
        }
        return LocalConnection(home: home, user: user)
    }
}

final class LocalConnection: HostConnection {
    let home: String
    let user: String?
    var hostKeyFingerprint: String { "SHA256:local" }

    init(home: String, user: String?) {
        self.home = home
        self.user = user
    }

    func exec(
        _ command: String, stdin: [UInt8], timeout: Duration?,
        output: @escaping @Sendable (OutputChunk) -> Void
    ) async throws(SSHError) -> ExecResult {
        let process = Process()
        if let user {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-p", "-u", user, "--", "/bin/sh", "-c", command]
        } else {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", command]
        }
        process.environment = [
            "HOME": home, "PATH": "/usr/local/bin:/usr/bin:/bin", "USER": user ?? "root",
            "LANG": "C",
        ]
        process.currentDirectoryURL = URL(fileURLWithPath: home)
        let input = Pipe()
        let out = Pipe()
        let err = Pipe()
        process.standardInput = input
        process.standardOutput = out
        process.standardError = err
        let start = ContinuousClock.now
        do {
            try process.run()
        } catch {
            throw SSHError(.channel, message: "cannot start a local shell: \(error)")
        }
        let finished = Once()
        let status: ExitStatus = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                finished.set(continuation)
                Thread.detachNewThread {
                    try? input.fileHandleForWriting.write(contentsOf: stdin)
                    try? input.fileHandleForWriting.close()
                }
                let readers = DispatchGroup()
                for (pipe, stream) in [(out, OutputChunk.Stream.stdout), (err, .stderr)] {
                    readers.enter()
                    Thread.detachNewThread {
                        while true {
                            let data = pipe.fileHandleForReading.availableData
                            if data.isEmpty { break }
                            output(OutputChunk(stream: stream, bytes: Array(data)))
                        }
                        readers.leave()
                    }
                }
                Thread.detachNewThread {
                    process.waitUntilExit()
                    readers.wait()
                    let status: ExitStatus = process.terminationReason == .uncaughtSignal
                        ? .signalled(process.terminationStatus == 9 ? "KILL" : "TERM")
                        : .exited(process.terminationStatus)
                    finished.resume(status)
                }
            }
        } onCancel: {
            // Like a closed channel: the wrapper shell goes, the step's group stays.
            process.terminate()
            finished.resume(.unknown)
        }
        if Task.isCancelled {
            throw SSHError(.cancelled, message: "interrupted")
        }
        return ExecResult(status: status, duration: ContinuousClock.now - start)
    }

    func upload(
        _ request: UploadRequest, progress: UploadProgress?
    ) async throws(SSHError) -> UploadOutcome {
        let path = resolve(request.remotePath)
        let bytes: [UInt8]
        switch request.contents {
        case .bytes(let value): bytes = value
        case .localFile(let local):
            bytes = Array(FileManager.default.contents(atPath: local) ?? Data())
        }
        let manager = FileManager.default
        var status = Glibc.stat()
        if lstat(path, &status) == 0, status.st_mode & S_IFMT != S_IFREG {
            throw SSHError(.sftp, message: "\(path) on local exists and is not a file")
        }
        if let existing = manager.contents(atPath: path), Array(existing) == bytes,
            let mode = try? manager.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber,
            mode.uint32Value & 0o7777 == request.mode
        {
            return .unchanged
        }
        let folder = (path as NSString).deletingLastPathComponent
        if !manager.fileExists(atPath: folder) {
            guard request.createParents else {
                throw SSHError(.missingParent, message: "\(folder) does not exist")
            }
            try? manager.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        let temp = folder + "/.flotilla-upload-\(UInt32.random(in: 0...UInt32.max))"
        // Written with O_CLOEXEC: a process another test starts at this moment must not
        // inherit the descriptor, or running this file as a script fails with ETXTBSY.
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode_t(request.mode))
        guard fd >= 0 else { throw SSHError(.sftp, message: "cannot write \(path)") }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        Glibc.close(fd)
        guard written == bytes.count, chmod(temp, mode_t(request.mode)) == 0 else {
            throw SSHError(.sftp, message: "cannot write \(path)")
        }
        _ = chmod(temp, mode_t(request.mode))
        _ = rename(temp, path)
        progress?(bytes.count, bytes.count)
        return .written(bytes: bytes.count)
    }

    func download(_ remotePath: String) async throws(SSHError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: resolve(remotePath)) else {
            throw SSHError(.sftp, message: "no such file \(remotePath)")
        }
        return Array(data)
    }

    func stat(_ remotePath: String) async throws(SSHError) -> RemoteFileInfo? {
        guard let attributes = try? FileManager.default.attributesOfItem(
            atPath: resolve(remotePath))
        else { return nil }
        let mode = (attributes[.posixPermissions] as? NSNumber)?.uint32Value ?? 0
        let size = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
        let isDirectory = attributes[.type] as? FileAttributeType == .typeDirectory
        return RemoteFileInfo(size: size, mode: mode, isDirectory: isDirectory, uid: 0, gid: 0)
    }

    func remove(_ remotePath: String) async throws(SSHError) {
        try? FileManager.default.removeItem(atPath: resolve(remotePath))
    }

    func makeDirectory(
        _ remotePath: String, mode: UInt32, parents: Bool
    ) async throws(SSHError) {
        try? FileManager.default.createDirectory(
            atPath: resolve(remotePath), withIntermediateDirectories: parents)
    }

    func close() async {}

    private func resolve(_ path: String) -> String {
        path.hasPrefix("~/") ? home + "/" + path.dropFirst(2) : path
    }
}

/// Resumes a continuation exactly once, whichever comes first: the end or a cancel.
final class Once: Sendable {
    private let state = Mutex<(CheckedContinuation<ExitStatus, Never>?, ExitStatus?)>((nil, nil))

    func set(_ continuation: CheckedContinuation<ExitStatus, Never>) {
        let early = state.withLock { value -> ExitStatus? in
            if let status = value.1 { return status }
            value.0 = continuation
            return nil
        }
        if let early { continuation.resume(returning: early) }
    }

    func resume(_ status: ExitStatus) {
        let continuation = state.withLock { value -> CheckedContinuation<ExitStatus, Never>? in
            guard value.1 == nil else { return nil }
            value.1 = status
            defer { value.0 = nil }
            return value.0
        }
        continuation?.resume(returning: status)
    }
}
