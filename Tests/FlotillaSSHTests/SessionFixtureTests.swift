// A sandbox fleet for the session tests, and the first thing a user checks: connecting.

import Foundation
import Synchronization
import Testing

@testable import FlotillaSSH
import FlotillaSandbox

/// Runs blocking work (starting and stopping servers, scanning /proc, running programs) on a
/// thread of its own: Swift's cooperative pool has one thread per core, and blocking it
/// stalls every session of every test running at the same time.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    let result = await withCheckedContinuation {
        (continuation: CheckedContinuation<Result<T, any Error>, Never>) in
        Thread.detachNewThread {
            continuation.resume(returning: Result { try body() })
        }
    }
    return try result.get()
}

/// Starts a fleet for one test and always stops it, also when the test fails.
func withFleet<T: Sendable>(
    count: Int = 1, extraServerConfig: String = "", userPerHost: Bool = true,
    _ body: (SandboxFleet) async throws -> T
) async throws -> T {
    let options = try SandboxOptions.temporary(
        count: count, namePrefix: "t-", userPerHost: userPerHost,
        extraServerConfig: extraServerConfig)
    let fleet = try await SandboxFleet.start(options)
    do {
        let value = try await body(fleet)
        try await offPool { fleet.down() }
        return value
    } catch {
        try await offPool { fleet.down() }
        throw error
    }
}

func connectOptions(
    _ fleet: SandboxFleet, _ host: SandboxHost, keepaliveInterval: Duration = .seconds(15),
    keepaliveCount: Int = 3
) -> ConnectOptions {
    ConnectOptions(
        alias: host.name, endpoint: Endpoint(host: host.address, port: host.port),
        user: host.user, identities: [.file(path: fleet.identityFile, passphrase: nil)],
        hostKeys: HostKeyPolicy(knownHostsFiles: [fleet.knownHostsFile]),
        connectTimeout: .seconds(10), handshakeTimeout: .seconds(30),
        keepaliveInterval: keepaliveInterval, keepaliveCount: keepaliveCount)
}

/// Connects to the fleet's first host (or `host`), runs `body`, and closes the session.
func withSession<T: Sendable>(
    _ fleet: SandboxFleet, host: SandboxHost? = nil, _ body: (Session) async throws -> T
) async throws -> T {
    let session = try await Session.connect(connectOptions(fleet, host ?? fleet.hosts[0]))
    do {
        let value = try await body(session)
        await session.close()
        return value
    } catch {
        await session.close()
        throw error
    }
}

/// A new folder under the login user's home, named relative to it (`t.Ab12Cd`). Hosts of
/// fleets with the same names share their users and homes, so every test works in its own.
func scratchFolder(_ session: Session) async throws -> String {
    let made = try await run(session, "mktemp -d t.XXXXXXXX")
    let name = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    try #require(made.status == .exited(0) && !name.isEmpty)
    return name
}

/// Everything a command printed, kept as bytes.
final class OutputCollector: Sendable {
    private let streams = Mutex<(stdout: [UInt8], stderr: [UInt8])>(([], []))

    var handler: @Sendable (OutputChunk) -> Void {
        { chunk in
            self.streams.withLock { streams in
                switch chunk.stream {
                case .stdout: streams.stdout.append(contentsOf: chunk.bytes)
                case .stderr: streams.stderr.append(contentsOf: chunk.bytes)
                }
            }
        }
    }

    var stdout: [UInt8] { streams.withLock { $0.stdout } }
    var stderr: [UInt8] { streams.withLock { $0.stderr } }
}

/// Runs a command on the session and returns its status and output as text.
func run(
    _ session: Session, _ command: String, stdin: [UInt8] = [], timeout: Duration? = nil
) async throws -> (status: FlotillaSSH.ExitStatus, stdout: String, stderr: String) {
    let output = OutputCollector()
    let result = try await session.exec(
        command, stdin: stdin, timeout: timeout, output: output.handler)
    return (
        result.status, String(decoding: output.stdout, as: UTF8.self),
        String(decoding: output.stderr, as: UTF8.self)
    )
}

/// The SSH error `body` throws, or nil (recorded as an issue) when it succeeds.
func failure(
    _ body: () async throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
) async -> SSHError? {
    do {
        try await body()
        Issue.record("expected an SSHError, but it succeeded", sourceLocation: sourceLocation)
    } catch let error as SSHError {
        return error
    } catch {
        Issue.record("expected an SSHError, got \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

@Suite("Connecting")
struct SessionConnectTests {
    @Test("A session to a sandbox host authenticates and reports the verified host key")
    func connects() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { session in
                #expect(session.alias == fleet.hosts[0].name)
                #expect(session.hostKey.fingerprint.hasPrefix("SHA256:"))
                #expect(fleet.hosts[0].hostKeys.contains { $0.hasPrefix(session.hostKey.type) })
                let result = try await run(session, "whoami")
                #expect(result.stdout == fleet.hosts[0].user + "\n")
            }
        }
    }

    @Test("The libssh2 version is the library loaded at run time")
    func reportsLibssh2Version() {
        #expect(libssh2RuntimeVersion.split(separator: ".").count == 3)
    }
}
