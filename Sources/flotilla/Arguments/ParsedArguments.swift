/// A command line split by a `CommandSpec`, in swift-argument-parser's conventions:
/// `--name value`, `--name=value`, `-n value`, `-nvalue`, flags alone, `--` ends options.
struct ParsedArguments: Sendable, Equatable {
    /// Flags given, by long name.
    var flags: Set<String> = []
    /// Option values by long name, in the order given.
    var values: [String: [String]] = [:]
    var positionals: [String] = []

    init(_ tokens: [String], spec: CommandSpec) throws(UsageError) {
        var index = tokens.startIndex
        var optionsEnded = false

        while index < tokens.endIndex {
            let token = tokens[index]
            index += 1

            if optionsEnded || token == "-" || !token.hasPrefix("-") {
                positionals.append(token)
                // exec's command keeps its own dashes: `exec uname -a`.
                if spec.passesRest && positionals.count >= spec.arguments.count {
                    positionals.append(contentsOf: tokens[index...])
                    break
                }
                continue
            }
            if token == "--" {
                optionsEnded = true
                continue
            }

            let (name, attached) = Self.split(token)
            guard let option = spec.option(named: name) else {
                throw UsageError("unknown option '\(name)'", command: spec.name)
            }
            if option.isFlag {
                guard attached == nil else {
                    throw UsageError(
                        "'\(name)' takes no value (got '\(attached!)')", command: spec.name)
                }
                flags.insert(option.long)
                continue
            }

            let value: String
            if let attached {
                value = attached
            } else if index < tokens.endIndex {
                value = tokens[index]
                index += 1
            } else {
                throw UsageError(
                    "missing value for '\(name)' (\(option.value!))", command: spec.name)
            }
            if !option.repeatable && values[option.long] != nil {
                throw UsageError("'\(name)' may be given only once", command: spec.name)
            }
            values[option.long, default: []].append(value)
        }
    }

    /// `--name=value` → (`--name`, `value`); `-ivalue` → (`-i`, `value`).
    private static func split(_ token: String) -> (String, String?) {
        if token.hasPrefix("--") {
            guard let equals = token.firstIndex(of: "=") else { return (token, nil) }
            return (String(token[..<equals]), String(token[token.index(after: equals)...]))
        }
        let name = String(token.prefix(2))
        let rest = token.dropFirst(2)
        if rest.isEmpty { return (name, nil) }
        return (name, String(rest.first == "=" ? rest.dropFirst() : rest))
    }

    func has(_ flag: String) -> Bool { flags.contains(flag) }

    func value(_ option: String) -> String? { values[option]?.last }

    func all(_ option: String) -> [String] { values[option] ?? [] }

    /// The one positional argument `name` a command takes (PLAYBOOK).
    func single(_ name: String, command: String) throws(UsageError) -> String {
        guard let value = positionals.first else {
            throw UsageError("missing \(name)", command: command)
        }
        try expectNoPositionals(after: 1, command: command)
        return value
    }

    /// For commands without positional arguments, or after the ones they took.
    func expectNoPositionals(after count: Int = 0, command: String) throws(UsageError) {
        guard positionals.count > count else { return }
        throw UsageError("unexpected argument '\(positionals[count])'", command: command)
    }
}
