// Resolves secret sources once, before any host is contacted. A value never appears in a
// message; only its name and where it was meant to come from do.

import Foundation

enum SecretResolver {
    static let commandTimeout: Duration = .seconds(60)

    struct Problem: Error {
        var message: String
    }

    static func resolve(
        _ source: SecretSource, relativeTo folder: String, environment: [String: String]
    ) -> Result<String, Problem> {
        switch source {
        case .env(let name):
            guard let value = environment[name] else {
                return .failure(Problem(message: "environment variable \(name) is not set"))
            }
            return nonEmpty(value, from: "environment variable \(name)")
        case .file(let path):
            let home = environment["HOME"] ?? NSHomeDirectory()
            let resolved = LocalPath.resolve(path, folder: folder, home: home)
            guard let data = FileManager.default.contents(atPath: resolved) else {
                return .failure(Problem(message: "cannot read file \(resolved)"))
            }
            return nonEmpty(String(decoding: data, as: UTF8.self), from: "file \(resolved)")
        case .command(let command):
            return run(command, in: folder, environment: environment)
        }
    }

    /// An empty secret cannot be redacted and is almost always a mistake.
    private static func nonEmpty(_ value: String, from origin: String) -> Result<String, Problem> {
        value.isEmpty ? .failure(Problem(message: "\(origin) is empty")) : .success(value)
    }

    /// Runs `/bin/sh -c command` with no stdin; its stdout, without trailing newlines, is
    /// the value. Stderr is not shown: it might echo the secret.
    private static func run(
        _ command: String, in folder: String, environment: [String: String]
    ) -> Result<String, Problem> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.environment = environment
        if !folder.isEmpty { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return .failure(Problem(message: "cannot start command '\(command)'"))
        }

        let deadline = ContinuousClock.now + commandTimeout
        let reader = OutputCollector(handle: output.fileHandleForReading)
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                return .failure(Problem(
                    message: "command '\(command)' did not finish within "
                        + "\(DurationText.format(commandTimeout))"))
            }
            Thread.sleep(forTimeInterval: 0.01)
        }
        let data = reader.finish()
        guard process.terminationStatus == 0 else {
            return .failure(Problem(
                message: "command '\(command)' exited with status \(process.terminationStatus)"))
        }
        var value = String(decoding: data, as: UTF8.self)
        while value.hasSuffix("\n") || value.hasSuffix("\r") { value.removeLast() }
        return nonEmpty(value, from: "the output of command '\(command)'")
    }
}

/// Drains a pipe on its own thread so a command with much output cannot block on it.
private final class OutputCollector: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func finish() -> Data {
        done.wait()
        return data
    }
}
