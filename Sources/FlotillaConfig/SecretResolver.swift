// Resolves secret sources once, before any host is contacted. A value never appears in a
// message; only its name and where it was meant to come from do.

import FoundationEssentials

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
            let home = environment["HOME"] ?? LocalPath.home
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
        let shell = LocalCommand(
            shell: command, environment: environment, folder: folder, errorOutput: .discarded,
            timeout: commandTimeout)
        let finished: LocalCommand.Finished
        switch shell.run() {
        case .success(let value):
            finished = value
        case .failure(.cannotStart):
            return .failure(Problem(message: "cannot start command '\(command)'"))
        case .failure(.timedOut):
            return .failure(
                Problem(
                    message: "command '\(command)' did not finish within "
                        + "\(DurationText.format(commandTimeout))"))
        case .failure(.cancelled):
            return .failure(
                Problem(message: "command '\(command)' was interrupted before it finished"))
        }
        guard finished.ending.status == 0 else {
            return .failure(
                Problem(
                    message: "command '\(command)' exited with status \(finished.ending.status)")
            )
        }
        var value = String(decoding: finished.output, as: UTF8.self)
        while value.hasSuffix("\n") || value.hasSuffix("\r") { value.removeLast() }
        return nonEmpty(value, from: "the output of command '\(command)'")
    }
}
