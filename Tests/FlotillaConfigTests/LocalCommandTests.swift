import FlotillaSupport
import Foundation
import Testing

@testable import FlotillaConfig

@Suite struct LocalCommandTests {
    private func run(
        _ command: String, environment: [String: String]? = nil, folder: String = "",
        errorOutput: LocalCommand.ErrorOutput = .captured, timeout: Duration? = nil
    ) -> Result<LocalCommand.Finished, LocalCommand.Failure> {
        LocalCommand(
            shell: command, environment: environment, folder: folder, errorOutput: errorOutput,
            timeout: timeout
        ).run()
    }

    private func text(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }

    @Test func theOutputOfBothStreamsIsCapturedApart() throws {
        let finished = try run("printf out; printf err >&2").get()
        #expect(finished.ending == .exited(0))
        #expect(text(finished.output) == "out")
        #expect(text(finished.errorOutput) == "err")
    }

    @Test func muchOutputOnBothStreamsNeverBlocksTheCommand() throws {
        let finished = try run(
            "head -c 3000000 /dev/zero; head -c 2000000 /dev/zero >&2; head -c 1000 /dev/zero",
            timeout: .seconds(30)
        ).get()
        #expect(finished.ending == .exited(0))
        #expect(finished.output.count == 3_001_000)
        #expect(finished.errorOutput.count == 2_000_000)
    }

    @Test func aDiscardedStandardErrorIsNotCaptured() throws {
        let finished = try run("echo visible; echo hidden >&2", errorOutput: .discarded).get()
        #expect(text(finished.output) == "visible\n")
        #expect(finished.errorOutput.isEmpty)
    }

    @Test func theExitStatusAndTheKillingSignalAreReported() throws {
        #expect(try run("exit 7").get().ending == .exited(7))
        let killed = try run("kill -TERM $$").get().ending
        #expect(killed == .signalled(SIGTERM))
        #expect(killed.status == SIGTERM)
    }

    @Test func theEnvironmentIsExactlyTheOneGiven() throws {
        let finished = try run("env", environment: ["ONLY": "this value"]).get()
        let lines = text(finished.output).split(separator: "\n").filter { !$0.hasPrefix("PWD=") }
        #expect(lines == ["ONLY=this value"])
    }

    @Test func theCommandRunsInTheFolderGiven() throws {
        let finished = try run("pwd", folder: "/usr/share").get()
        #expect(text(finished.output) == "/usr/share\n")
    }

    @Test func aFolderThatDoesNotExistMeansTheCommandCannotStart() {
        let result = run("true", folder: "/nonexistent/flotilla-folder")
        #expect(throws: LocalCommand.Failure.cannotStart(ENOENT)) { try result.get() }
    }

    @Test func standardInputIsEmpty() throws {
        let finished = try run("wc -c").get()
        #expect(text(finished.output).trimmingWhitespace() == "0")
    }

    @Test func aCommandPastItsTimeIsEndedWithEverythingItStarted() async throws {
        let marker = NSTemporaryDirectory() + "flotilla-local-command-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let started = ContinuousClock.now
        // The child ignores SIGTERM and keeps the output pipe open: only SIGKILL to the whole
        // group ends it, and the marker shows whether it outlived the timeout.
        let result = run(
            "trap '' TERM; (trap '' TERM; sleep 6; touch \(marker)) & wait",
            timeout: .milliseconds(300))
        #expect(throws: LocalCommand.Failure.timedOut) { try result.get() }
        #expect(ContinuousClock.now - started < .milliseconds(300) + LocalCommand.gracePeriod * 2)
        try await Task.sleep(until: started + .seconds(7))
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test func aCancelledTaskEndsTheCommandLongBeforeItsEnd() async throws {
        let started = ContinuousClock.now
        let task = Task.detached { run("sleep 30") }
        try await Task.sleep(for: .milliseconds(200))
        task.cancel()
        let result = await task.value
        #expect(throws: LocalCommand.Failure.cancelled) { try result.get() }
        #expect(ContinuousClock.now - started < .seconds(20))
    }
}
