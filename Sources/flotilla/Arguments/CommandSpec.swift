/// What a command accepts and how its `--help` reads. Parsing and help both come from this
/// one description, so the two cannot disagree.
struct CommandSpec: Sendable {
    struct Option: Sendable {
        /// `-i`, or nil when the option has only a long name.
        var short: String?
        /// `--inventory`, without the dashes.
        var long: String
        /// The value's name in help (`INVENTORY`), or nil for a flag.
        var value: String?
        var repeatable = false
        var help: String

        var isFlag: Bool { value == nil }

        /// `-i, --inventory INVENTORY`, as the help lists it.
        var label: String {
            var text = short.map { "\($0), " } ?? ""
            text += "--\(long)"
            if let value { text += " \(value)" }
            return text
        }
    }

    struct Argument: Sendable {
        var name: String
        var help: String
    }

    struct Example: Sendable {
        var comment: String
        var command: String
    }

    var name: String
    /// One sentence: what the command does.
    var abstract: String
    /// The synopsis after `flotilla`, one line per form.
    var usage: [String]
    var arguments: [Argument] = []
    var options: [Option] = []
    /// Everything after the first positional argument belongs to it (`exec`'s COMMAND).
    var passesRest = false
    var discussion: String?
    var examples: [Example]

    func option(named name: String) -> Option? {
        if name.hasPrefix("--") {
            let long = String(name.dropFirst(2))
            return options.first { $0.long == long }
        }
        return options.first { $0.short == name }
    }
}

extension CommandSpec.Option {
    static let help = CommandSpec.Option(
        short: "-h", long: "help", help: "Show this help.")

    static let inventory = CommandSpec.Option(
        short: "-i", long: "inventory", value: "INVENTORY", repeatable: true,
        help: "An inventory file; repeat to layer files, later ones win. "
            + "Default: $FLOTILLA_INVENTORY, then ./inventory.yml.")

    static let limit = CommandSpec.Option(
        short: "-l", long: "limit", value: "PATTERN",
        help: "Only the hosts this pattern selects (all, names, groups, globs, "
            + "!name, &group, comma lists).")

    static let forks = CommandSpec.Option(
        long: "forks", value: "N", help: "At most N hosts at once (default 50).")

    static let output = CommandSpec.Option(
        long: "output", value: "MODE",
        help: "auto, tty, plain, github or json (default auto: github when "
            + "GITHUB_ACTIONS=true, tty on a terminal, else plain).")

    static let logs = CommandSpec.Option(
        long: "logs", value: "DIR", help: "Where run folders go (default .flotilla/runs).")

    static let verbose = CommandSpec.Option(
        short: "-v", long: "verbose", help: "Stream every line of command output.")

    static let quiet = CommandSpec.Option(
        short: "-q", long: "quiet", help: "Print only failures and the recap.")
}
