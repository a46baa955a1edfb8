// Reaching a host through another host of the fleet.

import Foundation
import Testing

@testable import FlotillaSSH

@Suite("Jump hosts")
struct JumpHostTests {
    @Test("A host reached through a jump host runs commands and takes uploads")
    func throughJumpHost() async throws {
        try await withFleet(count: 2) { fleet in
            try await withSession(fleet, host: fleet.hosts[0]) { (bastion: Session) async throws in
                var options = connectOptions(fleet, fleet.hosts[1])
                options.jump = bastion
                let inner = try await Session.connect(options)
                let dir = try await scratchFolder(inner)
                let whoami = try await run(inner, "whoami")
                #expect(whoami.stdout == fleet.hosts[1].user + "\n")
                #expect(inner.hostKey.fingerprint.hasPrefix("SHA256:"))

                // Bulk data both ways through the tunnel.
                let payload = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                let outcome = try await inner.upload(
                    UploadRequest(
                        contents: .bytes(payload), remotePath: "~/\(dir)/p.bin", mode: 0o644))
                #expect(outcome == .written(bytes: payload.count))
                #expect(try await inner.download("~/\(dir)/p.bin") == payload)
                _ = try await run(inner, "rm -rf \(dir)")
                await inner.close()

                // The jump session is still fine after the inner one closed.
                #expect(try await run(bastion, "echo still here").stdout == "still here\n")
            }
        }
    }
}
