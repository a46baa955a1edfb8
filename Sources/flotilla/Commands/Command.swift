/// One `flotilla` subcommand: its description, how it reads its arguments, and what it does.
protocol Command: Sendable {
    static var spec: CommandSpec { get }
    init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError)
    /// Runs and returns the exit code (PRODUCT §8). Input problems are thrown as
    /// `DiagnosticError`, usage problems as `UsageError`, anything else as `CommandFailure`.
    func run() async throws -> Int32
}

/// A command stopped with a message for the user and an exit code.
struct CommandFailure: Error, Sendable {
    var exitCode: Int32
    var message: String

    init(_ message: String, exitCode: Int32) {
        self.message = message
        self.exitCode = exitCode
    }
}
