import FlotillaConfig
import FlotillaSandbox

/// The command line: finds the command, parses its arguments, runs it, and turns every
/// error into its message and exit code in one place.
enum Flotilla {
    static let version = "0.1.0"

    /// Every command, in the order help lists them.
    static let commands: [any Command.Type] = [
        RunCommand.self, ExecCommand.self, PingCommand.self, HostsCommand.self,
        ValidateCommand.self, TrustCommand.self, SandboxCommand.self, VersionCommand.self,
    ]

    static func command(named name: String) -> (any Command.Type)? {
        commands.first { $0.spec.name == name }
    }

    static func main(_ arguments: [String], environment: [String: String]) async -> Int32 {
        let out = TextOutput.standardOutput
        let errors = TextOutput.standardError
        do {
            return try await dispatch(arguments, environment: environment, out: out)
        } catch let error as UsageError {
            errors.write(usageMessage(for: error))
            return 2
        } catch let error as DiagnosticError {
            errors.write(terminated(error.rendered()))
            return 2
        } catch let error as CommandFailure {
            errors.write(lines: ["error: \(error.message)"])
            return error.exitCode
        } catch let error as SandboxError {
            errors.write(lines: ["error: \(error.message)"])
            return 1
        } catch {
            errors.write(lines: ["error: \(error)"])
            return 1
        }
    }

    private static func dispatch(
        _ arguments: [String], environment: [String: String], out: TextOutput
    ) async throws -> Int32 {
        guard let name = arguments.first else {
            out.write(HelpText.renderTop())
            return 0
        }
        let rest = Array(arguments.dropFirst())
        switch name {
        case "-h", "--help":
            out.write(HelpText.renderTop())
            return 0
        case "--version":
            return try await VersionCommand(ParsedArguments([], spec: .version),
                environment: environment).run()
        case "help":
            return try help(rest, out: out)
        default:
            break
        }

        guard let command = command(named: name) else {
            throw UsageError("unknown command '\(name)'", command: nil)
        }
        let parsed: ParsedArguments
        do {
            parsed = try ParsedArguments(rest, spec: command.spec)
        } catch {
            // `--help` wins over every other problem, as in argument-parser.
            let options = rest.prefix { $0 != "--" }
            guard options.contains("-h") || options.contains("--help") else { throw error }
            parsed = try ParsedArguments(["--help"], spec: command.spec)
        }
        if parsed.has("help") {
            out.write(HelpText.render(command.spec))
            return 0
        }
        return try await command.init(parsed, environment: environment).run()
    }

    /// `flotilla help [COMMAND]`; the hidden `help --markdown` prints docs/commands.md.
    private static func help(_ arguments: [String], out: TextOutput) throws -> Int32 {
        switch arguments.first {
        case nil:
            out.write(HelpText.renderTop())
        case "--markdown":
            out.write(HelpText.renderMarkdown())
        case let name?:
            guard let command = command(named: name) else {
                throw UsageError("unknown command '\(name)'", command: nil)
            }
            out.write(HelpText.render(command.spec))
        }
        return 0
    }

    /// The error, the usage, and where to read more.
    static func usageMessage(for error: UsageError) -> String {
        var lines = ["error: \(error.message)"]
        if let name = error.command, let spec = command(named: name)?.spec {
            lines += HelpText.usage(spec, label: "usage: ")
            lines.append("See 'flotilla \(name) --help'.")
        } else {
            lines.append("usage: flotilla COMMAND [OPTIONS]")
            lines.append("See 'flotilla --help' for the commands.")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func terminated(_ text: String) -> String {
        text.hasSuffix("\n") ? text : text + "\n"
    }
}
