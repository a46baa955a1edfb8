/// Renders `--help` from a `CommandSpec`, in swift-argument-parser's layout: OVERVIEW, USAGE,
/// ARGUMENTS, OPTIONS, then EXAMPLES. docs/commands.md is made from the same text.
enum HelpText {
    static let width = 80
    private static let labelWidth = 24

    static let overview = "Run staged playbooks over SSH across a fleet of hosts."

    static func render(_ spec: CommandSpec) -> String {
        var lines = wrap("OVERVIEW: \(spec.abstract)", width: width, first: "", rest: "")
        lines += [""] + usage(spec, label: "USAGE: ")
        if let discussion = spec.discussion {
            lines += [""] + wrap(discussion, width: width, first: "", rest: "")
        }
        if !spec.arguments.isEmpty {
            lines += ["", "ARGUMENTS:"]
            for argument in spec.arguments {
                lines += entry(argument.name, argument.help)
            }
        }
        lines += ["", "OPTIONS:"]
        for option in spec.options {
            lines += entry(option.label, option.help)
        }
        lines += ["", "EXAMPLES:"]
        for (index, example) in spec.examples.enumerated() {
            if index > 0 { lines.append("") }
            lines += wrap(example.comment, width: width, first: "  ", rest: "  ")
            lines += wrap(example.command, width: width, first: "    $ ", rest: "        ")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The synopsis, one form per line, continuation lines indented under the first.
    static func usage(_ spec: CommandSpec, label: String) -> [String] {
        var lines: [String] = []
        let blank = String(repeating: " ", count: label.count)
        for (index, form) in spec.usage.enumerated() {
            let head = index == 0 ? label : blank
            lines += wrap(form, width: width, first: head, rest: blank + "    ")
        }
        return lines
    }

    /// `flotilla --help`: the commands and where to read more.
    static func renderTop() -> String {
        var lines = ["OVERVIEW: \(overview)", "", "USAGE: flotilla COMMAND [OPTIONS]", ""]
        lines.append("COMMANDS:")
        let specs = Flotilla.commands.map { $0.spec }
        let nameWidth = (specs.map(\.name.count).max() ?? 0) + 4
        for spec in specs {
            let label = "  " + spec.name.padded(toLength: nameWidth)
            lines += wrap(
                spec.abstract, width: width, first: label,
                rest: String(repeating: " ", count: label.count))
        }
        lines += ["", "See 'flotilla COMMAND --help' for a command's options and examples."]
        return lines.joined(separator: "\n") + "\n"
    }

    /// docs/commands.md: every help text verbatim, so the reference cannot drift.
    static func renderMarkdown() -> String {
        var text = """
            # Command reference

            Every block below is what `flotilla COMMAND --help` prints. The section is
            regenerated with `flotilla help --markdown`, and a test fails when the two differ.


            """
        text += "## flotilla\n\n```text\n\(renderTop())```\n"
        for spec in Flotilla.commands.map({ $0.spec }) {
            text += "\n## flotilla \(spec.name)\n\n```text\n\(render(spec))```\n"
        }
        return text
    }

    /// A label column and a wrapped help sentence, like argument-parser's option list.
    private static func entry(_ label: String, _ help: String) -> [String] {
        let indent = String(repeating: " ", count: labelWidth + 2)
        let head = "  " + label
        if head.count + 2 > labelWidth + 2 {
            return [head] + wrap(help, width: width, first: indent, rest: indent)
        }
        let padded = head.padded(toLength: labelWidth + 2)
        return wrap(help, width: width, first: padded, rest: indent)
    }

    /// Greedy word wrap; a word longer than the line stays whole.
    static func wrap(_ text: String, width: Int, first: String, rest: String) -> [String] {
        var lines: [String] = []
        var line = first
        var lineHasWord = false
        for word in text.split(separator: " ") {
            if lineHasWord && line.count + 1 + word.count > width {
                lines.append(line)
                line = rest
                lineHasWord = false
            }
            line += (lineHasWord ? " " : "") + word
            lineHasWord = true
        }
        lines.append(line)
        return lines
    }
}
