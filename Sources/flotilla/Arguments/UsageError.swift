/// The command line does not fit the command: printed with the usage, exit 2.
struct UsageError: Error, Sendable, Equatable {
    /// The command whose usage is shown, or nil for `flotilla` itself.
    var command: String?
    var message: String

    init(_ message: String, command: String?) {
        self.command = command
        self.message = message
    }
}
