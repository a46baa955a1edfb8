// A malicious or broken server cannot crash or hang Flotilla: whatever bytes it sends, the
// connection ends in time with an error that names the host and what was wrong.

import Foundation
import Synchronization
import Testing

@testable import FlotillaSSH
import FlotillaSandbox

/// A "server" on 127.0.0.2 that answers every connection with chosen bytes, then waits for
/// the client to hang up. The bytes are written from a thread of its own, so a client that
/// stops reading blocks only that thread.
final class ScriptedListener: Sendable {
    private let listener: SilentListener
    private let clients = Mutex<[Int32]>([])
    var port: Int { listener.port }

    init(sending bytes: [UInt8]) throws {
        listener = try SilentListener()
        let fd = listener.fd
        Thread.detachNewThread { [self] in
            while case let client = accept(fd, nil, nil), client >= 0 {
                clients.withLock { $0.append(client) }
                Thread.detachNewThread { Self.answer(client, with: bytes) }
            }
        }
    }

    private static func answer(_ client: Int32, with bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes {
                send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if count <= 0 { break }
            sent += count
        }
        // Stay connected, silent, until the client gives up.
        var sink = [UInt8](repeating: 0, count: 4096)
        while recv(client, &sink, sink.count, 0) > 0 {}
    }

    /// Stops accepting and hangs up on every client (which ends their threads).
    func close() {
        shutdown(listener.fd, Int32(SHUT_RDWR))
        listener.close()
        for client in clients.withLock({ $0 }) {
            shutdown(client, Int32(SHUT_RDWR))
            Glibc.close(client)
        }
    }
}

@Suite("Hostile servers")
struct HostileServerTests {
    /// Every listener here sends its bytes at once, so the wait for the first of them never
    /// decides a test; it is long because the whole suite shares 2 cores, and a starved
    /// listener thread once took more than 5 s to answer.
    private func options(port: Int, alias: String) -> ConnectOptions {
        ConnectOptions(
            alias: alias, endpoint: Endpoint(host: "127.0.0.2", port: port), user: "deploy",
            identities: [],
            hostKeys: HostKeyPolicy(knownHostsFiles: ["/nonexistent/flotilla/known_hosts"]),
            connectTimeout: .seconds(20), handshakeTimeout: .seconds(10))
    }

    /// Connects to a listener that sends `bytes` and returns the error, checking that it
    /// came well before anything could be called a hang.
    private func connectError(
        to bytes: [UInt8], alias: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> SSHError? {
        let listener = try ScriptedListener(sending: bytes)
        defer { listener.close() }
        let started = ContinuousClock.now
        let error = await failure(
            { _ = try await Session.connect(options(port: listener.port, alias: alias)) },
            sourceLocation: sourceLocation)
        // The first bytes within 20s, the handshake within 10s more; generous because tests
        // share a loaded machine.
        #expect(ContinuousClock.now - started < .seconds(60), sourceLocation: sourceLocation)
        #expect(
            error?.description.hasPrefix("\(alias) (127.0.0.2:\(listener.port)): ") == true,
            sourceLocation: sourceLocation)
        return error
    }

    @Test("A banner line of megabytes without a newline is refused as not SSH")
    func endlessBanner() async throws {
        let error = try await connectError(
            to: [UInt8](repeating: UInt8(ascii: "A"), count: 8 << 20), alias: "endless")
        #expect(error?.code == .handshake, "\(String(describing: error))")
        #expect(error?.message.hasPrefix(
            "the server did not send an SSH banner (a line it sent: \"AAAAAAAA") == true,
            "\(String(describing: error))")
        #expect(error?.message.contains("is this port an SSH server?") == true)
    }

    @Test("A banner that is not SSH at all (an HTTP server) is named as such")
    func httpBanner() async throws {
        let error = try await connectError(
            to: Array("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".utf8),
            alias: "web")
        #expect(error?.code == .handshake, "\(String(describing: error))")
        // libssh2 reads past lines that are not a banner and keeps the last one.
        #expect(error?.message == "the server did not send an SSH banner (a line it sent: "
            + "\"Content-Length: 0\"); is this port an SSH server?")
    }

    @Test("Garbage after a valid banner fails the handshake with libssh2's reason")
    func garbageAfterBanner() async throws {
        var generator = SeededGenerator(seed: 0x5EED)
        let garbage = (0..<65_536).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let error = try await connectError(
            to: Array("SSH-2.0-Hostile_1.0\r\n".utf8) + garbage, alias: "garbled")
        #expect(error?.code == .handshake, "\(String(describing: error))")
        #expect(error?.message.hasPrefix("SSH handshake failed") == true)
        #expect(error?.detail?.hasPrefix("libssh2 -") == true)
    }

    @Test("A packet length that claims gigabytes after a valid banner fails at once")
    func hugePacketLength() async throws {
        let error = try await connectError(
            to: Array("SSH-2.0-Hostile_1.0\r\n".utf8) + [0xFF, 0xFF, 0xFF, 0xF0]
                + [UInt8](repeating: 0, count: 64),
            alias: "huge")
        #expect(error?.code == .handshake, "\(String(describing: error))")
        #expect(error?.message.hasPrefix("SSH handshake failed") == true)
    }
}

/// A small deterministic random generator (SplitMix64): the same seed gives the same
/// inputs on every machine, so a failure can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
