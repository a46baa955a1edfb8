// A timeout or a cancellation ends the remote command and everything it started.

import Foundation
import Testing

@testable import FlotillaSSH

@Suite("Ending remote commands")
struct ExecTerminationTests {
    /// Hosts share users across fleets: a number no other test run uses marks our processes.
    private func uniqueTag() -> Int { Int.random(in: 10_000...99_999) * 10 }

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
                let tag = uniqueTag()
                let started = ContinuousClock.now
                let error = await failure {
                    _ = try await session.exec(
                        "sleep \(tag)1 & sleep \(tag)2; wait", timeout: .seconds(1))
                }
                #expect(error?.code == .commandTimeout)
                #expect(error?.message.contains("timeout of 1s") == true)
                #expect(ContinuousClock.now - started < .seconds(60))
                #expect(try await stillRunning(session, "slee[p] \(tag)[12]") == false)
                // The session is still usable afterwards.
                #expect(try await run(session, "echo ok").stdout == "ok\n")
            }
        }
    }

    @Test("Cancelling the task terminates the remote command and its children")
    func cancellationTerminates() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                let tag = uniqueTag()
                let task = Task {
                    try await session.exec("sleep \(tag)3 & sleep \(tag)4; wait")
                }
                try await Task.sleep(for: .seconds(1))
                #expect(try await stillRunning(session, "slee[p] \(tag)3"))
                task.cancel()
                let result = await task.result
                guard case .failure(let error as SSHError) = result else {
                    Issue.record("expected a cancellation error, got \(result)")
                    return
                }
                #expect(error.code == .cancelled)
                #expect(try await stillRunning(session, "slee[p] \(tag)[34]") == false)
            }
        }
    }

    @Test("A TERM-ignoring command is killed after the grace period")
    func stubbornCommandIsKilled() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                let tag = uniqueTag()
                let started = ContinuousClock.now
                let error = await failure {
                    _ = try await session.exec(
                        "trap '' TERM; sleep \(tag)5 & wait", timeout: .milliseconds(500))
                }
                #expect(error?.code == .commandTimeout)
                #expect(ContinuousClock.now - started < .seconds(60))
                // Gone within moments of the timeout, even on a busy machine.
                var running = true
                for _ in 0..<50 where running {
                    running = try await stillRunning(session, "slee[p] \(tag)5")
                    if running { try await Task.sleep(for: .milliseconds(200)) }
                }
                #expect(!running)
            }
        }
    }
}
