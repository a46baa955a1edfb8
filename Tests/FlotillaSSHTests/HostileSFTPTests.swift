// An SFTP server that answers with broken packets cannot crash or hang an upload, a
// download or a stat: each fails with an SFTP error that names the host.

import Foundation
import Testing

@testable import FlotillaSSH
import FlotillaSandbox

/// How the stand-in SFTP server misbehaves.
enum HostileSFTP: String, CaseIterable, Sendable {
    /// Answers the init with a packet length of 0xFFFFFFFF.
    case hugeLength = "huge-length"
    /// Sends the first bytes of a version packet and exits.
    case truncated
    /// Answers the init with a version packet too short to hold a version.
    case shortVersion = "short-version"
    /// Answers the init with a status packet instead of a version.
    case wrongType = "wrong-type"
    /// Speaks SFTP version 3, then answers every request for another request id.
    case wrongID = "wrong-id"
    /// Speaks SFTP version 3, then answers every request with noise.
    case noise
}

/// The stand-in server: reads the client's packets from stdin and answers on stdout as
/// its mode says. sshd runs it for the SFTP subsystem through `ForceCommand`.
private let sftpServerScript = #"""
import os, struct, sys
mode = sys.argv[1]
inp, out = sys.stdin.buffer, sys.stdout.buffer

def packet():
    head = inp.read(4)
    if len(head) < 4:
        return None
    return inp.read(struct.unpack('>I', head)[0])

def send(data):
    out.write(data)
    out.flush()

packet()
if mode == 'huge-length':
    send(b'\xff\xff\xff\xff\x02\x00\x00\x00\x03')
elif mode == 'truncated':
    send(b'\x00\x00\x00\x09\x02\x00')
    sys.exit(0)
elif mode == 'short-version':
    send(b'\x00\x00\x00\x01\x02')
elif mode == 'wrong-type':
    send(struct.pack('>IBII', 9, 101, 0, 0))
else:
    send(struct.pack('>IBI', 5, 2, 3))
while True:
    request = packet()
    if request is None or len(request) < 5:
        break
    rid = struct.unpack('>I', request[1:5])[0]
    if mode == 'wrong-id':
        send(struct.pack('>IBII', 13, 101, rid ^ 0x5A5A, 0) + b'\x00\x00\x00\x00')
    else:
        send(bytes(range(7, 250, 3)))
"""#

@Suite("Hostile SFTP servers")
struct HostileSFTPTests {
    @Test(
        "A broken SFTP server fails uploads, downloads and stats with an error, in time",
        arguments: [HostileSFTP.hugeLength, .truncated, .shortVersion, .noise])
    func brokenServer(_ mode: HostileSFTP) async throws {
        try await againstServer(mode) { name, operation, place in
            let error = try await boundedFailure(name, operation)
            #expect(error?.code == .sftp, "\(name): \(String(describing: error))")
            #expect(
                error?.description.hasPrefix(place) == true,
                "\(name): \(String(describing: error))")
        }
    }

    /// libssh2 waits for the reply it asked for; a server that answers with well-formed
    /// packets of another kind keeps it waiting. The wait must end at once when the run is
    /// interrupted.
    @Test(
        "Replies of the wrong kind keep an operation waiting until it is cancelled, then it ends",
        arguments: [HostileSFTP.wrongType, .wrongID])
    func wrongReplies(_ mode: HostileSFTP) async throws {
        try await againstServer(mode) { name, operation, place in
            let task = Task { try await operation() }
            try await Task.sleep(for: .seconds(2))
            let cancelled = ContinuousClock.now
            task.cancel()
            switch await task.result {
            case .success:
                Issue.record("\(name) succeeded against a broken SFTP server")
            case .failure(let error as SSHError):
                #expect(error.code == .cancelled, "\(name): \(error)")
                #expect(error.description.hasPrefix(place), "\(name): \(error)")
            case .failure(let error):
                Issue.record("\(name) failed with \(error)")
            }
            #expect(ContinuousClock.now - cancelled < .seconds(20), "\(name)")
        }
    }

    /// Runs `check` for an upload, a download and a stat, each on a fresh session to a
    /// server whose SFTP subsystem misbehaves as `mode` says.
    private func againstServer(
        _ mode: HostileSFTP,
        _ check: (String, @escaping @Sendable () async throws -> Void, String) async throws
            -> Void
    ) async throws {
        let folder = try makeScriptFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let command = "ForceCommand /usr/bin/python3 \(folder)/sftp.py \(mode.rawValue)"
        try await withFleet(extraServerConfig: command) { fleet in
            let host = fleet.hosts[0]
            let place = "\(host.name) (127.0.0.1:\(host.port)): "
            let upload = UploadRequest(
                contents: .bytes(Array("payload".utf8)), remotePath: "/tmp/hostile-\(mode)",
                mode: 0o644)
            let operations: [(String, @Sendable (Session) async throws -> Void)] = [
                ("upload", { _ = try await $0.upload(upload) }),
                ("download", { _ = try await $0.download("/etc/hostname") }),
                ("stat", { _ = try await $0.stat("/etc/hostname") }),
            ]
            for (name, operation) in operations {
                // A new session each time: the server is broken from its first packet on.
                try await withSession(fleet) { session in
                    try await check(name, { try await operation(session) }, place)
                }
            }
        }
    }

    /// The error `body` fails with, or nil with an issue recorded when it succeeds or has
    /// not finished after 30 seconds (it is then cancelled, so the suite goes on).
    private func boundedFailure(
        _ name: String, _ body: @escaping @Sendable () async throws -> Void
    ) async throws -> SSHError? {
        let task = Task { try await body() }
        let watchdog = Task {
            try await Task.sleep(for: .seconds(30))
            task.cancel()
        }
        defer { watchdog.cancel() }
        switch await task.result {
        case .success:
            Issue.record("\(name) succeeded against a broken SFTP server")
        case .failure(let error as SSHError) where error.code == .cancelled:
            Issue.record("\(name) hung: \(error)")
        case .failure(let error as SSHError):
            return error
        case .failure(let error):
            Issue.record("\(name) failed with \(error)")
        }
        return nil
    }

    /// A folder every sandbox user may read, holding the stand-in server.
    private func makeScriptFolder() throws -> String {
        let folder = try SandboxFleet.makeTemporaryFolder()
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder)
        try sftpServerScript.write(
            toFile: folder + "/sftp.py", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes(
            [.posixPermissions: 0o644], ofItemAtPath: folder + "/sftp.py")
        return folder
    }
}
