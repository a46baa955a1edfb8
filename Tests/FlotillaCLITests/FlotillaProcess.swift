import Foundation

/// Runs the built `flotilla` executable as a user would, and keeps what it printed.
struct FlotillaProcess {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
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

    /// Runs to the end, bounded by `timeout` against hangs.
    static func run(
        _ arguments: [String], environment: [String: String] = [:], in folder: URL? = nil,
        timeout: TimeInterval = 60
    ) throws -> Result {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("flotilla-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let stdoutURL = scratch.appendingPathComponent("stdout")
        let stderrURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var base = ProcessInfo.processInfo.environment
        // The tests choose the output mode; the CI they run in must not.
        base["GITHUB_ACTIONS"] = nil
        base["GITHUB_STEP_SUMMARY"] = nil
        base["FLOTILLA_INVENTORY"] = nil
        process.environment = base.merging(environment) { $1 }
        process.currentDirectoryURL = folder ?? scratch
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()

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
        return Result(
            status: process.terminationStatus,
            stdout: try String(contentsOf: stdoutURL, encoding: .utf8),
            stderr: try String(contentsOf: stderrURL, encoding: .utf8))
    }

    struct TimeoutError: Error, CustomStringConvertible {
        var arguments: [String]
        var seconds: TimeInterval
        var description: String { "flotilla \(arguments) ran past \(seconds)s" }
    }
}
