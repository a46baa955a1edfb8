// Uploads are atomic, keep secrets private at every instant, and leave equal files alone.

import FlotillaSandbox
import Foundation
import Testing

@testable import FlotillaSSH

@Suite("Uploads")
struct SFTPUploadTests {
    @Test("A secret is never readable by others, even while its upload is in progress")
    func secretNeverExposed() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                let dir = try await scratchFolder(session)
                let watcher = try await Session.connect(connectOptions(fleet, fleet.hosts[0]))
                defer { Task { await watcher.close() } }
                _ = try await run(session, "mkdir -p \(dir)/vault")
                // Prints the mode of every temporary file it sees until the target appears.
                let watch = Task {
                    try await run(watcher, """
                        cd \(dir)
                        touch vault/.watching
                        while [ ! -e vault/app.env ]; do
                          for f in vault/.app.env.*; do [ -e "$f" ] && stat -c '%a' "$f"; done
                          sleep 0.005
                        done 2>/dev/null
                        """, timeout: .seconds(120))
                }
                while try await session.stat("~/\(dir)/vault/.watching") == nil {
                    try await Task.sleep(for: .milliseconds(20))
                }
                let secret = [UInt8](repeating: 0x53, count: 32 << 20)
                let outcome = try await session.upload(
                    UploadRequest(
                        contents: .bytes(secret), remotePath: "~/\(dir)/vault/app.env",
                        mode: 0o600))
                #expect(outcome == .written(bytes: secret.count))
                let seen = try await watch.value.stdout.split(separator: "\n")
                #expect(!seen.isEmpty, "the watcher never saw the temporary file")
                #expect(seen.allSatisfy { $0 == "600" }, "modes seen: \(Set(seen))")
                let info = try await session.stat("~/\(dir)/vault/app.env")
                #expect(info?.mode == 0o600)
                #expect(info?.size == UInt64(secret.count))
                let left = try await run(session, "ls -A \(dir)/vault").stdout
                #expect(left == ".watching\napp.env\n")
                _ = try await run(session, "rm -rf \(dir)")
            }
        }
    }

    /// What an upload costs on a network with latency: requests that do not wait on each
    /// other travel together, so a new file takes four round trips (look at the target and
    /// open the temporary file; set its mode and write; sync; close and rename), not seven.
    @Test("A new file costs fewer round trips than one request at a time")
    func uploadRoundTrips() async throws {
        try await withFleet { fleet in
            let host = fleet.hosts[0]
            let relay = try SandboxRelay(to: host.port)
            defer { relay.stop() }
            let recorded = host.hostKeys.map { "[127.0.0.1]:\(relay.port) \($0)" }
            var options = connectOptions(fleet, host)
            options.endpoint = Endpoint(host: "127.0.0.1", port: relay.port)
            options.hostKeys = HostKeyPolicy(
                knownHostsFiles: [],
                knownHostsText: [("relay", recorded.joined(separator: "\n"))])
            let session = try await Session.connect(options)
            defer { Task { await session.close() } }
            let dir = try await scratchFolder(session)
            // The SFTP channel is open before anything is counted.
            _ = try await session.stat("~/\(dir)")

            let before = relay.turns
            let outcome = try await session.upload(
                UploadRequest(
                    contents: .bytes(Array("secret\n".utf8)), remotePath: "~/\(dir)/app.env",
                    mode: 0o600))
            #expect(outcome == .written(bytes: 7))
            // Three on a quiet machine (look and open; mode, bytes and sync; close and
            // rename); a busy one can split a burst in two at the relay, but one request at a
            // time would be seven.
            #expect(relay.turns - before < 6, "round trips: \(relay.turns - before)")
            let info = try await session.stat("~/\(dir)/app.env")
            #expect(info?.mode == 0o600 && info?.size == 7)
            _ = try await run(session, "rm -rf \(dir)")
        }
    }

    @Test("Overwriting a 0644 file with a shorter 0600 one gives exactly the new bytes at 0600")
    func overwriteNarrowsMode() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                let dir = try await scratchFolder(session)
                _ = try await run(
                    session, "cd \(dir); printf 'longer old text' > app.env; chmod 644 app.env"
                )
                let outcome = try await session.upload(
                    UploadRequest(
                        contents: .bytes(Array("new".utf8)), remotePath: "~/\(dir)/app.env",
                        mode: 0o600))
                #expect(outcome == .written(bytes: 3))
                #expect(try await session.stat("~/\(dir)/app.env")?.mode == 0o600)
                #expect(try await session.download("~/\(dir)/app.env") == Array("new".utf8))
                #expect(try await run(session, "ls -A \(dir) | grep -c app.env").stdout == "1\n")
            }
        }
    }

    @Test("An unchanged file is left alone: same bytes and mode, same mtime")
    func unchangedFileLeftAlone() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                let dir = try await scratchFolder(session)
                let request = UploadRequest(
                    contents: .bytes(Array("server_name example.org;\n".utf8)),
                    remotePath: "~/\(dir)/site.conf", mode: 0o644)
                #expect(try await session.upload(request) == .written(bytes: 25))
                let before = try await run(session, "stat -c %y \(dir)/site.conf").stdout
                try await Task.sleep(for: .milliseconds(1100))
                #expect(try await session.upload(request) == .unchanged)
                #expect(try await run(session, "stat -c %y \(dir)/site.conf").stdout == before)

                var other = request
                other.mode = 0o640
                #expect(try await session.upload(other) == .written(bytes: 25))
                #expect(try await session.stat("~/\(dir)/site.conf")?.mode == 0o640)
            }
        }
    }

    @Test("A missing parent folder is an error unless parents are asked for")
    func missingParent() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                let dir = try await scratchFolder(session)
                let home = fleet.hosts[0].home
                let request = UploadRequest(
                    contents: .bytes(Array("#!/bin/sh\n".utf8)),
                    remotePath: "\(home)/\(dir)/releases/2024-06-01/deploy.sh", mode: 0o755)
                let error = await failure { _ = try await session.upload(request) }
                #expect(error?.code == .missingParent)
                #expect(error?.message.hasPrefix(
                    "parent folder \(home)/\(dir)/releases/2024-06-01 does not exist on t-1")
                    == true)
                #expect(try await run(session, "ls -A \(dir)").stdout.contains("releases") == false)

                var withParents = request
                withParents.createParents = true
                #expect(try await session.upload(withParents) == .written(bytes: 10))
                let info = try await session.stat("~/\(dir)/releases/2024-06-01/deploy.sh")
                #expect(info?.mode == 0o755)
                #expect(try await session.stat("~/\(dir)/releases")?.isDirectory == true)
            }
        }
    }

    /// Field report R17: whatever the server's umask, a file gets exactly the mode asked
    /// for: a narrow umask does not strip an upload's bits, a wide one does not widen a
    /// secret's.
    @Test("The requested mode is applied exactly under umask 077, 022 and 000",
          arguments: ["077", "022", "000"])
    func modeIgnoresUmask(_ umask: String) async throws {
        let folder = "/tmp/flotilla-umask-\(umask)-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o777])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Every session of this server is SFTP only, with that umask.
        let config = "ForceCommand internal-sftp -u \(umask)"
        try await withFleet(extraServerConfig: config) { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                for mode: UInt32 in [0o644, 0o600, 0o755, 0o640] {
                    let path = folder + "/file-" + String(mode, radix: 8)
                    let request = UploadRequest(
                        contents: .bytes(Array("mode \(mode)\n".utf8)), remotePath: path,
                        mode: mode)
                    #expect(try await session.upload(request) == .written(bytes: 9))
                    let attributes = try FileManager.default.attributesOfItem(atPath: path)
                    let actual = (attributes[.posixPermissions] as? NSNumber)?.uint32Value
                    #expect(actual == mode, "umask \(umask), mode \(String(mode, radix: 8))")
                }
            }
        }
    }

    @Test("A target that is a folder or a link is refused, and left as it was")
    func targetNotAFile() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                let dir = try await scratchFolder(session)
                let home = fleet.hosts[0].home
                _ = try await run(
                    session, "mkdir \(dir)/conf && echo real > \(dir)/real && "
                        + "ln -s real \(dir)/link")
                for name in ["conf", "link"] {
                    let request = UploadRequest(
                        contents: .bytes(Array("new\n".utf8)),
                        remotePath: "~/\(dir)/\(name)", mode: 0o644)
                    let error = await failure { _ = try await session.upload(request) }
                    #expect(error?.code == .sftp)
                    #expect(error?.message.hasPrefix(
                        "\(home)/\(dir)/\(name) on t-1 exists and is not a file") == true,
                        "\(String(describing: error))")
                }
                let listing = try await run(
                    session, "cd \(dir) && ls -A conf && readlink link && cat real")
                #expect(listing.stdout == "real\nreal\n")
            }
        }
    }

    @Test("Writing where the user may not is a permission error naming the path")
    func permissionDenied() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                let request = UploadRequest(
                    contents: .bytes([1, 2, 3]), remotePath: "/etc/flotilla-test.conf", mode: 0o644)
                let error = await failure { _ = try await session.upload(request) }
                if fleet.hosts[0].user == "root" { return }
                #expect(error?.code == .permissionDenied)
                #expect(error?.message.contains("/etc/") == true)
            }
        }
    }

    @Test("Progress is reported up to the whole size of a large upload")
    func progressReported() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                let dir = try await scratchFolder(session)
                let reports = ProgressLog()
                let size = 8 << 20
                _ = try await session.upload(
                    UploadRequest(
                        contents: .bytes([UInt8](repeating: 7, count: size)),
                        remotePath: "~/\(dir)/big.bin", mode: 0o644),
                    progress: reports.record)
                let seen = reports.values
                #expect(seen.count > 2)
                #expect(seen.last == size)
                #expect(seen == seen.sorted())
                _ = try await run(session, "rm -rf \(dir)")
            }
        }
    }

    @Test("Folders, stat, download and remove work on ~/ paths")
    func fileOperations() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                let dir = try await scratchFolder(session)
                try await session.makeDirectory("~/\(dir)/a/b/c", mode: 0o750, parents: true)
                let folder = try await session.stat("~/\(dir)/a/b/c")
                #expect(folder?.isDirectory == true)
                #expect(folder?.mode == 0o750)
                let error = await failure { try await session.makeDirectory("~/\(dir)/x/y") }
                #expect(error?.code == .missingParent)

                _ = try await run(session, "printf 'hello' > \(dir)/a/b/c/f.txt")
                #expect(try await session.download("~/\(dir)/a/b/c/f.txt") == Array("hello".utf8))
                try await session.remove("~/\(dir)/a/b/c/f.txt")
                try await session.remove("~/\(dir)/a/b/c/f.txt")
                #expect(try await session.stat("~/\(dir)/a/b/c/f.txt") == nil)
            }
        }
    }
}

final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var sent: [Int] = []

    var record: UploadProgress {
        { sent, _ in
            self.lock.lock()
            self.sent.append(sent)
            self.lock.unlock()
        }
    }

    var values: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return sent
    }
}
