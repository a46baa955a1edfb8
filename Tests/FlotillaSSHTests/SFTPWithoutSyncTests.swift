// An SFTP server without OpenSSH's fsync extension still takes uploads: the sync is skipped,
// whether it went out with the only write request or after the last of several.

import Foundation
import Testing

@testable import FlotillaSSH
import FlotillaSandbox

/// Passes every request to the real sftp-server, one at a time, except `fsync@openssh.com`,
/// which it answers itself with SSH_FX_OP_UNSUPPORTED and counts in the file `argv[1]`.
private let withoutSyncScript = #"""
import struct, subprocess, sys
inp, out = sys.stdin.buffer, sys.stdout.buffer
server = subprocess.Popen(['/usr/lib/openssh/sftp-server'],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE)

def read(stream):
    head = stream.read(4)
    if len(head) < 4:
        return None
    return stream.read(struct.unpack('>I', head)[0])

def send(stream, body):
    stream.write(struct.pack('>I', len(body)) + body)
    stream.flush()

while True:
    request = read(inp)
    if request is None:
        break
    if request[0] == 200:
        length = struct.unpack('>I', request[5:9])[0]
        if request[9:9 + length] == b'fsync@openssh.com':
            with open(sys.argv[1], 'a') as log:
                log.write('refused\n')
            send(out, b'\x65' + request[1:5] + struct.pack('>III', 8, 0, 0))
            continue
    send(server.stdin, request)
    reply = read(server.stdout)
    if reply is None:
        break
    send(out, reply)
"""#

@Suite("Uploads to a server without fsync")
struct SFTPWithoutSyncTests {
    @Test("A small and a large upload succeed when the server cannot sync")
    func uploadsWithoutSync() async throws {
        let folder = try SandboxFleet.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = FileManager.default
        try files.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder)
        try withoutSyncScript.write(
            toFile: folder + "/proxy.py", atomically: true, encoding: .utf8)
        try files.setAttributes([.posixPermissions: 0o644], ofItemAtPath: folder + "/proxy.py")
        let log = folder + "/refused.log"
        files.createFile(atPath: log, contents: nil, attributes: [.posixPermissions: 0o666])
        // The sandbox user writes here; the folder is removed with everything in it.
        let target = folder + "/uploads"
        try files.createDirectory(
            atPath: target, withIntermediateDirectories: false,
            attributes: [.posixPermissions: 0o777])

        let command = "ForceCommand /usr/bin/python3 \(folder)/proxy.py \(log)"
        try await withFleet(extraServerConfig: command) { fleet in
            try await withSession(fleet) { session in
                // One write request (synced along with it), then several (synced after).
                let small = Array("small\n".utf8)
                let large = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 % 251) }
                for (name, bytes) in [("small", small), ("large", large)] {
                    let path = "\(target)/\(name)"
                    let outcome = try await session.upload(
                        UploadRequest(contents: .bytes(bytes), remotePath: path, mode: 0o600))
                    #expect(outcome == .written(bytes: bytes.count), "\(name)")
                    #expect(try await session.download(path) == bytes, "\(name)")
                    #expect(try await session.stat(path)?.mode == 0o600, "\(name)")
                }
            }
        }
        let refused = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(refused == "refused\nrefused\n", "syncs the server refused: \(refused)")
    }
}
