// How a remote command ended, as a user would check it.

import Foundation
import Testing

@testable import FlotillaSSH

@Suite("Exit status")
struct ExecStatusTests {
    @Test("Exit codes 0, 1 and 127 and signals TERM and KILL are reported as such")
    func statuses() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { session in
                #expect(try await run(session, "true").status == .exited(0))
                #expect(try await run(session, "exit 1").status == .exited(1))
                let missing = try await run(session, "no-such-command-anywhere")
                #expect(missing.status == .exited(127))
                #expect(missing.stderr.contains("not found"))
                #expect(try await run(session, "kill -TERM $$").status == .signalled("TERM"))
                #expect(try await run(session, "kill -KILL $$").status == .signalled("KILL"))
            }
        }
    }

    @Test("A channel the server closes without a status is unknown, never success")
    func unknownStatus() async throws {
        try await withFleet(extraServerConfig: "ChannelTimeout session:*=1s") { fleet in
            try await withSession(fleet) { session in
                let result = try await run(session, "sleep 4; exit 7", timeout: .seconds(20))
                #expect(result.status == .unknown)
                #expect(!result.status.succeeded)
            }
        }
    }
}
