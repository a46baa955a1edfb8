// What `flotilla trust` and `flotilla ping` rely on: host keys without authentication, and
// fast round trips on an open session.

import Foundation
import Testing

@testable import FlotillaSSH
import FlotillaSandbox

@Suite("Probing and round trips")
struct SessionProbeTests {
    @Test("Probing returns the key the server presents for each algorithm asked for")
    func probesEachAlgorithm() async throws {
        try await withFleet { fleet in
            let host = fleet.hosts[0]
            let keys = try await Session.probeHostKeys(
                alias: host.name, endpoint: Endpoint(host: host.address, port: host.port),
                algorithms: ["ssh-ed25519", "ecdsa-sha2-nistp256"], timeout: .seconds(30))
            #expect(keys.map(\.type) == ["ssh-ed25519", "ecdsa-sha2-nistp256"])
            for key in keys {
                let recorded = "\(key.type) \(Data(key.blob).base64EncodedString())"
                #expect(host.hostKeys.contains(recorded))
                #expect(key.fingerprint == sha256Fingerprint(key.blob))
            }
        }
    }

    @Test("A key type the server does not offer is left out; the others are still returned")
    func leavesOutAlgorithmsTheServerLacks() async throws {
        try await withFleet(extraServerConfig: "HostKeyAlgorithms ssh-ed25519") { fleet in
            let host = fleet.hosts[0]
            let endpoint = Endpoint(host: host.address, port: host.port)
            let keys = try await Session.probeHostKeys(
                alias: host.name, endpoint: endpoint,
                algorithms: ["ecdsa-sha2-nistp256", "ssh-ed25519"], timeout: .seconds(30))
            #expect(keys.map(\.type) == ["ssh-ed25519"])

            let error = await #expect(throws: SSHError.self) {
                try await Session.probeHostKeys(
                    alias: host.name, endpoint: endpoint, algorithms: ["ecdsa-sha2-nistp256"],
                    timeout: .seconds(30))
            }
            #expect(error?.code == .handshake)
            #expect(error?.message.contains("no host key of type ecdsa-sha2-nistp256") == true)
        }
    }

    @Test("A host that accepts connections but never answers is an error, not an empty list")
    func aSilentHostIsAnError() async throws {
        let listener = try SilentListener()
        defer { listener.close() }
        let started = ContinuousClock.now
        let error = await #expect(throws: SSHError.self) {
            try await Session.probeHostKeys(
                alias: "silent", endpoint: Endpoint(host: "127.0.0.2", port: listener.port),
                algorithms: ["ssh-ed25519"], timeout: .seconds(1))
        }
        #expect(error?.code == .connectTimeout)
        // A bound against hanging, not a measure: beside 200 handshakes of other tests on
        // two busy cores, timers fire late.
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test("The session socket has TCP_NODELAY, so small packets never wait for delayed ACKs")
    func noDelayOnSocket() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                var value: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                let socket = session.connection.handle.socket
                #expect(getsockopt(socket, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length) == 0)
                #expect(value != 0)

                // A bound against hangs only: the machine may be shared and busy.
                let started = ContinuousClock.now
                for _ in 0..<20 {
                    #expect(try await session.exec("true").status == .exited(0))
                }
                #expect(ContinuousClock.now - started < .seconds(60))
            }
        }
    }
}
