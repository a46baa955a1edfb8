// A timeout or a cancellation ends the remote command and everything it started.

import Foundation
import Testing

@testable import FlotillaSSH

@Suite("Ending remote commands")
struct ExecTerminationTests {
    /// Whether any process of the login user still matches (the bracket keeps pgrep from
    /// finding the shell that runs it).
    private func stillRunning(_ session: Session, _ pattern: String) async throws -> Bool {
        let result = try await run(session, "pgrep -u \"$(id -u)\" -f '\(pattern)'")
        return result.status == .exited(0)
    }

    @Test("A command past its timeout is terminated with its children, within the timeout")
    func timeoutTerminates() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                let started = ContinuousClock.now
                let error = await failure {
                    _ = try await session.exec(
                        "sleep 3171 & sleep 3172; wait", timeout: .seconds(1))
                }
                #expect(error?.code == .commandTimeout)
                #expect(error?.message.contains("timeout of 1s") == true)
                #expect(ContinuousClock.now - started < .seconds(15))
                #expect(try await stillRunning(session, "slee[p] 317[12]") == false)
                // The session is still usable afterwards.
                #expect(try await run(session, "echo ok").stdout == "ok\n")
            }
        }
    }

    @Test("Cancelling the task terminates the remote command and its children")
    func cancellationTerminates() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                let task = Task {
                    try await session.exec("sleep 3173 & sleep 3174; wait")
                }
                try await Task.sleep(for: .seconds(1))
                #expect(try await stillRunning(session, "slee[p] 3173"))
                task.cancel()
                let result = await task.result
                guard case .failure(let error as SSHError) = result else {
                    Issue.record("expected a cancellation error, got \(result)")
                    return
                }
                #expect(error.code == .cancelled)
                #expect(try await stillRunning(session, "slee[p] 317[34]") == false)
            }
        }
    }

    @Test("A TERM-ignoring command is killed after the grace period")
    func stubbornCommandIsKilled() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                let started = ContinuousClock.now
                let error = await failure {
                    _ = try await session.exec(
                        "trap '' TERM; sleep 3175 & wait", timeout: .milliseconds(500))
                }
                #expect(error?.code == .commandTimeout)
                #expect(ContinuousClock.now - started < .seconds(20))
                #expect(try await stillRunning(session, "slee[p] 3175") == false)
            }
        }
    }
}
