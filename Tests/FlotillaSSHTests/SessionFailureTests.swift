// Hosts that cannot be reached or will not let Flotilla in fail alone, in time, with a
// message that says why.

import Foundation
import Testing

@testable import FlotillaSSH
import FlotillaSandbox

@Suite("Connection failures")
struct SessionFailureTests {
    private func options(port: Int, alias: String) -> ConnectOptions {
        ConnectOptions(
            alias: alias, endpoint: Endpoint(host: "127.0.0.2", port: port), user: "deploy",
            identities: [],
            hostKeys: HostKeyPolicy(knownHostsFiles: ["/nonexistent/flotilla/known_hosts"]),
            connectTimeout: .seconds(2), handshakeTimeout: .seconds(2))
    }

    @Test("A listener that accepts and never speaks fails within its timeout")
    func silentListenerTimesOut() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let started = ContinuousClock.now
        let error = await failure {
            _ = try await Session.connect(options(port: listener.port, alias: "mute"))
        }
        #expect(error?.code == .connectTimeout)
        #expect(error?.description.hasPrefix(
            "mute (127.0.0.2:\(listener.port)): no SSH banner within 2s") == true)
        // A bound against hanging forever (R22), not a measure: beside hostile servers and
        // 200 handshakes of other tests on two busy cores, timers fire late.
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    /// Field report R22: a host whose firewall drops packets never answers the connection
    /// attempt; it must fail in the connect timeout, not the system's minutes of retries.
    @Test("A host that drops connection attempts fails within the connect timeout")
    func blackholeTimesOut() async throws {
        let listener = try SilentListener(backlog: 0)
        defer { listener.close() }
        // Fill the one place in the queue, so the next attempts go unanswered.
        let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(filler) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(SilentListener.address)
        address.sin_port = UInt16(listener.port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(connected == 0)

        let started = ContinuousClock.now
        let error = await failure {
            _ = try await Session.connect(options(port: listener.port, alias: "dropped"))
        }
        #expect(error?.code == .connectTimeout)
        #expect(error?.description == "dropped (127.0.0.2:\(listener.port)): TCP connect timed"
            + " out after 2s; check the address and that no firewall drops the packets")
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test("A closed port is refused at once, naming the port")
    func refused() async throws {
        let listener = try SilentListener()
        listener.close()
        let error = await failure {
            _ = try await Session.connect(options(port: listener.port, alias: "down"))
        }
        #expect(error?.code == .connect)
        #expect(error?.message.contains("connection refused") == true)
        #expect(error?.message.contains("port \(listener.port)") == true)
    }

    @Test("A name that does not resolve is a resolve error")
    func unresolvable() async throws {
        var options = options(port: 22, alias: "ghost")
        options.endpoint = Endpoint(host: "no-such-host.invalid", port: 22)
        let error = await failure { _ = try await Session.connect(options) }
        #expect(error?.code == .resolve)
    }

    @Test("A key the server does not accept names the user, host, methods and key source")
    func authenticationFailed() async throws {
        try await withFleet { fleet in
            let folder = try SandboxFleet.makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try await offPool { try keygen("ed25519", "\(folder)/stranger") }
            var options = connectOptions(fleet, fleet.hosts[0])
            options.identities = [.file(path: "\(folder)/stranger", passphrase: nil)]
            let error = await failure { _ = try await Session.connect(options) }
            #expect(error?.code == .authenticationFailed)
            let host = fleet.hosts[0]
            #expect(error?.message.hasPrefix(
                "authentication failed for \(host.user)@\(host.name) (127.0.0.1:\(host.port)); "
                    + "the server accepts publickey; tried \(folder)/stranger") == true)
            #expect(error?.message.contains("PRIVATE") == false)
        }
    }

    @Test("An RSA key refused by OpenSSH 8.8+ is explained on libssh2 older than 1.11")
    func rsaExplained() async throws {
        try await withFleet { fleet in
            let folder = try SandboxFleet.makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try await offPool { try keygen("rsa", "\(folder)/id_rsa") }
            let authorized = "\(fleet.folder)/authorized_keys"
            let rsaPublic = try String(contentsOfFile: "\(folder)/id_rsa.pub", encoding: .utf8)
            let handle = try #require(FileHandle(forWritingAtPath: authorized))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(rsaPublic.utf8))
            try handle.close()

            var options = connectOptions(fleet, fleet.hosts[0])
            options.identities = [.file(path: "\(folder)/id_rsa", passphrase: nil)]
            let host = fleet.hosts[0]
            do throws(SSHError) {
                let session = try await Session.connect(options)
                await session.close()
                #expect(!LibSSH2Runtime.signsRSAWithSHA1Only, "1.10 cannot sign rsa-sha2")
            } catch {
                #expect(LibSSH2Runtime.signsRSAWithSHA1Only)
                #expect(error.code == .authenticationFailed)
                #expect(error.message == "RSA key for \(host.user)@\(host.name) "
                    + "(127.0.0.1:\(host.port)) rejected. This build uses libssh2 "
                    + "\(libssh2RuntimeVersion), which can only sign with ssh-rsa (SHA-1); "
                    + "OpenSSH 8.8 and later refuse that by default. Use an ed25519 or ECDSA "
                    + "key, or a build with libssh2 1.11 or later.")
            }
        }
    }

    @Test("Keepalives declare a frozen host lost and fail the waiting command")
    func keepaliveDetectsFrozenHost() async throws {
        try await withFleet { fleet in
            let host = fleet.hosts[0]
            let session = try await Session.connect(
                connectOptions(fleet, host, keepaliveInterval: .seconds(1), keepaliveCount: 2))
            defer { Task { await session.close() } }
            let running = Task { try await session.exec("sleep 60") }
            try await Task.sleep(for: .milliseconds(500))
            try await offPool { try fleet.pause(host.name) }
            let started = ContinuousClock.now
            // Bounded, so that a missed loss fails this test instead of hanging the suite.
            let watchdog = Task {
                try await Task.sleep(for: .seconds(90))
                try? await offPool { try fleet.resume(host.name) }
                running.cancel()
            }
            let result = await running.result
            watchdog.cancel()
            try await offPool { try fleet.resume(host.name) }
            guard case .failure(let error as SSHError) = result else {
                Issue.record("expected the connection to be lost, got \(result)")
                return
            }
            #expect(error.code == .connectionLost)
            #expect(error.message.hasPrefix(
                "connection to \(host.name) lost after 2s without response"))
            // Two silent 1s intervals, plus the tick that notices; generous for a busy machine.
            #expect(ContinuousClock.now - started < .seconds(30))
        }
    }
}

func keygen(_ type: String, _ path: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
    process.arguments = ["-q", "-t", type, "-N", "", "-C", "test", "-f", path]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw SandboxError("ssh-keygen -t \(type) failed")
    }
}
