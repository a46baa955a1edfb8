// What `flotilla trust` and `flotilla ping` rely on: host keys without authentication, and
// fast round trips on an open session.

import Foundation
import Testing

@testable import FlotillaSSH

@Suite("Probing and round trips")
struct SessionProbeTests {
    @Test("Probing returns the key the server presents for each algorithm asked for")
    func probesEachAlgorithm() async throws {
        try await withFleet { fleet in
            let host = fleet.hosts[0]
            let keys = try await Session.probeHostKeys(
                alias: host.name, endpoint: Endpoint(host: host.address, port: host.port),
                algorithms: ["ssh-ed25519", "ecdsa-sha2-nistp256"])
            #expect(keys.map(\.type) == ["ssh-ed25519", "ecdsa-sha2-nistp256"])
            for key in keys {
                let recorded = "\(key.type) \(Data(key.blob).base64EncodedString())"
                #expect(host.hostKeys.contains(recorded))
                #expect(key.fingerprint == sha256Fingerprint(key.blob))
            }
        }
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
                #expect(ContinuousClock.now - started < .seconds(20))
            }
        }
    }
}
