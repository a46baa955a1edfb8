// Starting programs (sshd, ssh-keygen, useradd, visudo) with posix_spawn, so the sandbox
// controls exactly which descriptors and signal dispositions a server inherits and can
// wait for its own children without a process-wide SIGCHLD handler.

#if canImport(Glibc)
import FlotillaSupport
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A program started by the sandbox, identified by its pid.
struct ChildProcess: Sendable {
    let pid: pid_t
    let description: String

    /// How a finished program ended: an exit code, or the signal that killed it.
    enum Ending: Sendable, Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        var description: String {
            switch self {
            case .exited(let code): "exited with status \(code)"
            case .signalled(let signal): "killed by signal \(signal)"
            }
        }
    }

    /// Starts `path` with `arguments`; stdin is /dev/null and stdout and stderr are appended
    /// to `outputFile` (or /dev/null). With `newSession` the program gets its own session,
    /// so it survives the terminal and process group of whoever started it.
    static func spawn(
        _ path: String, _ arguments: [String], outputFile: String? = nil,
        newSession: Bool = false
    ) throws(SandboxError) -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(
            &actions, 1, outputFile ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // A program here may outlive the moment this process had a file open for writing.
        closeInheritedDescriptors(&actions)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The test runner may block or ignore signals; the servers must react to
        // SIGTERM and SIGHUP as they normally would.
        var flags = defaultSignals(&attributes)
        // POSIX_SPAWN_SETSID (glibc's value) is not visible to Swift.
        if newSession { flags |= 0x80 }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = ([path] + arguments).map { strdup($0) }
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, path, &actions, &attributes, argv + [nil], environ)
        guard result == 0 else {
            throw SandboxError(
                "could not start \(path): \(String(cString: strerror(result))); "
                    + "check that it is installed (scripts/install-deps.sh)")
        }
        return ChildProcess(pid: pid, description: ([path] + arguments).joined(separator: " "))
    }

    /// Runs a program to its end and returns how it ended and what it printed.
    static func run(_ path: String, _ arguments: [String]) throws(SandboxError)
        -> (ending: Ending, output: String)
    {
        let outputFile = TemporaryFile.path(prefix: "flotilla-sandbox-run")
        defer { unlink(outputFile) }
        let child = try spawn(path, arguments, outputFile: outputFile)
        let ending = child.waitForEnd()
        return (ending, TemporaryFile.read(outputFile) ?? "")
    }

    /// Runs a program and throws, quoting its output, unless it exits with status 0.
    @discardableResult
    static func check(_ path: String, _ arguments: [String]) throws(SandboxError) -> String {
        let (ending, output) = try run(path, arguments)
        guard ending == .exited(0) else {
            let name = ([path] + arguments).joined(separator: " ")
            throw SandboxError("`\(name)` \(ending): \(output.trimmed)")
        }
        return output
    }

    /// Blocks until the program ends and reaps it.
    func waitForEnd() -> Ending {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            if errno != EINTR { return .exited(-1) }
        }
        return Self.ending(status)
    }

    /// The ending if the program has ended (and reaps it), nil while it runs.
    func endingIfFinished() -> Ending? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == 0 { return nil }
        if result == -1 { return errno == ECHILD ? .exited(-1) : nil }
        return Self.ending(status)
    }

    private static func ending(_ status: Int32) -> Ending {
        // The W* macros are not visible to Swift; these are their glibc definitions.
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }
}

extension String {
    var trimmed: String {
        var text = Substring(self)
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        return String(text)
    }
}
