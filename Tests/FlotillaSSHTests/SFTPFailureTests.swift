// Uploads that cannot finish leave the target untouched and no temporary file behind.

import Foundation
import Testing

@testable import FlotillaSSH

@Suite("Upload failures")
struct SFTPFailureTests {
    @Test("A full disk is reported with bytes written and the target left untouched")
    func diskFull() async throws {
        // A 1 MiB tmpfs needs root to mount; elsewhere this case cannot be built.
        guard getuid() == 0 else { return }
        let mountPoint = try await offPool { () throws -> String in
            let folder = "/tmp/flotilla-full-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: false,
                attributes: [.posixPermissions: 0o755])
            try runMountCommand(
                "/bin/mount", ["-t", "tmpfs", "-o", "size=1m,mode=1777", "tmpfs", folder])
            return folder
        }
        defer {
            _ = try? runMountCommand("/bin/umount", [mountPoint])
            try? FileManager.default.removeItem(atPath: mountPoint)
        }
        try await withFleet { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                let target = "\(mountPoint)/artifact.tar"
                _ = try await run(session, "printf old > \(target)")
                let request = UploadRequest(
                    contents: .bytes([UInt8](repeating: 1, count: 3 << 20)), remotePath: target,
                    mode: 0o644)
                let error = await failure { _ = try await session.upload(request) }
                #expect(error?.code == .diskFull)
                #expect(error?.message.hasPrefix(
                    "no space left on t-1:\(mountPoint) while uploading \(target): wrote ") == true)
                #expect(error?.message.contains("of 3.0 MiB") == true)
                #expect(try await run(session, "ls -A \(mountPoint)").stdout == "artifact.tar\n")
                #expect(try await session.download(target) == Array("old".utf8))
            }
        }
    }

    @Test("A cancelled upload removes its temporary file and the session goes on")
    func cancelledUpload() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                let dir = try await scratchFolder(session)
                let request = UploadRequest(
                    contents: .bytes([UInt8](repeating: 2, count: 96 << 20)),
                    remotePath: "~/\(dir)/big.bin", mode: 0o644)
                let upload = Task { try await session.upload(request) }
                try await Task.sleep(for: .milliseconds(300))
                upload.cancel()
                let result = await upload.result
                if case .failure(let error as SSHError) = result {
                    #expect(error.code == .cancelled)
                    #expect(try await run(session, "ls -A \(dir)").stdout == "")
                } else {
                    // The machine was fast enough to finish first; the file must be whole.
                    #expect(try await session.stat("~/\(dir)/big.bin")?.size == 96 << 20)
                }
                let small = UploadRequest(
                    contents: .bytes(Array("after".utf8)), remotePath: "~/\(dir)/after.txt",
                    mode: 0o644)
                #expect(try await session.upload(small) == .written(bytes: 5))
                _ = try await run(session, "rm -rf \(dir)")
            }
        }
    }
}

func runMountCommand(_ path: String, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw SSHError(.sftp, message: "\(path) \(arguments.joined(separator: " ")) failed")
    }
}
