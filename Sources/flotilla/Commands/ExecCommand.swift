import FlotillaConfig
import FlotillaEngine

/// `flotilla exec -- COMMAND...`: one ad-hoc command on every selected host, shown like a
/// run. Without `-q` the command's output is always shown: it is what exec is for.
struct ExecCommand: Command {
    static let spec = CommandSpec.exec

    var command: String
    var inventory: InventoryChoice
    var become: Bool
    var timeout: Duration?
    var forks = RunOptions().forks
    var logsFolder: String
    var output: OutputChoice
    var environment: [String: String]

    init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        guard !arguments.positionals.isEmpty else {
            throw UsageError("missing COMMAND", command: "exec")
        }
        // Joined with spaces, as ssh does: the remote shell reads the words again.
        command = arguments.positionals.joined(separator: " ")
        self.environment = environment
        inventory = try InventoryChoice(arguments, environment: environment, command: "exec")
        output = try OutputChoice(arguments, command: "exec")
        if output.verbosity == .normal {
            output.verbosity = .verbose
        }
        become = arguments.has("become")
        forks = try RunCommand.forks(arguments, command: "exec") ?? forks
        logsFolder = arguments.value("logs") ?? RunOptions().logsFolder
        if let text = arguments.value("timeout") {
            guard let timeout = Duration(flotillaText: text) else {
                throw UsageError(
                    "'--timeout' takes a duration like 90s, 15m or 1h (got '\(text)')",
                    command: "exec")
            }
            self.timeout = timeout
        }
    }

    func run() async throws -> Int32 {
        let inventory = try self.inventory.load()
        let hosts = try self.inventory.select(in: inventory)
        guard !hosts.isEmpty else {
            throw CommandFailure("no host matches '\(self.inventory.limit ?? "all")'", exitCode: 2)
        }
        let sink = output.makeOutput(environment: environment)
        let outcome = await Interrupts.run(output: sink) { [self] in
            await Engine.exec(
                command: command, hosts: hosts, inventory: inventory, become: become,
                timeout: timeout, forks: forks, logsFolder: logsFolder, sink: sink)
        }
        return outcome.exitCode
    }
}
