import Foundation

/// Runs the built `flotilla` executable as a user would, and keeps what it printed.
/// Waiting happens on a thread of its own: a `flotilla` run lasts seconds, and holding one of
/// the few threads of Swift's pool meanwhile would stall every other test in the process.
final class FlotillaProcess: @unchecked Sendable {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    struct TimeoutError: Error, CustomStringConvertible {
        var arguments: [String]
        var seconds: TimeInterval
        var description: String { "\(arguments) ran past \(seconds)s" }
    }

    struct ExitedEarly: Error, CustomStringConvertible {
        var arguments: [String]
        var status: Int32
        var stdout: String
        var stderr: String
        var description: String {
            "\(arguments) exited with \(status) before it was expected to:\n\(stdout)\n\(stderr)"
        }
    }

    /// The package folder, found from this file.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The binary beside the test bundle, or the package's debug build.
    static let executable: URL = {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0])
            .deletingLastPathComponent().appendingPathComponent("flotilla")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) {
            return besideTests
        }
        return packageRoot.appendingPathComponent(".build/debug/flotilla")
    }()

    let process = Process()
    let arguments: [String]
    private let scratch: URL
    private let stdoutURL: URL
    private let stderrURL: URL

    /// Starts `flotilla ARGUMENTS`, or `executable ARGUMENTS` when one is given (`script`),
    /// with `input` on its standard input.
    init(
        _ arguments: [String], environment: [String: String] = [:], in folder: URL? = nil,
        executable: URL? = nil, input: String? = nil
    ) throws {
        self.arguments = arguments
        scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("flotilla-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        stdoutURL = scratch.appendingPathComponent("stdout")
        stderrURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)

        process.executableURL = executable ?? Self.executable
        process.arguments = arguments
        var base = ProcessInfo.processInfo.environment
        // The tests choose the output mode; the CI they run in must not.
        for name in ["GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "FLOTILLA_INVENTORY", "NO_COLOR"] {
            base[name] = nil
        }
        process.environment = base.merging(environment) { $1 }
        process.currentDirectoryURL = folder ?? scratch
        let stdin = Pipe()
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
        if let input {
            try stdin.fileHandleForWriting.write(contentsOf: Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: scratch)
    }

    /// Runs to the end, bounded by `timeout` against hangs.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], in folder: URL? = nil,
        timeout: TimeInterval = 60
    ) async throws -> Result {
        try await offPool {
            try FlotillaProcess(arguments, environment: environment, in: folder)
                .waitBlocking(timeout: timeout)
        }
    }

    /// Runs `body` on a new thread and waits for it without holding a thread of the pool.
    static func offPool<T: Sendable>(
        _ body: @escaping @Sendable () throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Swift.Result { try body() }) }
        }
    }

    var stdout: String {
        (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? ""
    }

    var stderr: String {
        (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
    }

    /// Waits until `condition` holds for what was printed so far.
    func waitUntil(
        timeout: TimeInterval, _ condition: @escaping @Sendable (String) -> Bool
    ) async throws {
        try await Self.offPool { try self.waitUntilBlocking(timeout: timeout, condition) }
    }

    private func waitUntilBlocking(
        timeout: TimeInterval, _ condition: (String) -> Bool
    ) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition(stdout) {
            guard process.isRunning else {
                throw ExitedEarly(
                    arguments: arguments, status: process.terminationStatus, stdout: stdout,
                    stderr: stderr)
            }
            guard Date() < deadline else {
                throw TimeoutError(arguments: arguments, seconds: timeout)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    func wait(timeout: TimeInterval) async throws -> Result {
        try await Self.offPool { try self.waitBlocking(timeout: timeout) }
    }

    func waitBlocking(timeout: TimeInterval) throws -> Result {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw TimeoutError(arguments: arguments, seconds: timeout)
        }
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: stdout, stderr: stderr)
    }
}
