// What `{{ }}` can see while rendering for one host: the merged variables, the built-ins
// (`host.name`, `host.address`, `host.port`, `host.user`, `playbook_dir`) and, only where
// a value travels on stdin or into a 0600 file, `secrets.NAME`.

struct TemplateScope: Sendable {
    struct Problem: Error, Sendable, Hashable {
        var message: String
    }

    /// Where the rendered text goes, which decides whether secrets may appear in it.
    enum Destination: Sendable {
        /// A command line, a path or a name: visible in `ps` and logs, so no secrets.
        case visible
        /// A secret step's content, a template promoted to a secret, or an `env:` value.
        case confidential
    }

    static let maxNesting = 8

    var vars: [String: Value]
    var host: InventoryHost
    var playbookDir: String
    var secrets: [String: String]
    var destination: Destination = .visible
    /// Set once a rendering used a secret: the step becomes sensitive.
    private(set) var usedSecret = false

    init(
        vars: [String: Value], host: InventoryHost, playbookDir: String,
        secrets: [String: String]
    ) {
        self.vars = vars
        self.host = host
        self.playbookDir = playbookDir
        self.secrets = secrets
    }

    /// Renders `template`; nil text and the problems, each with its expression, on failure.
    mutating func render(
        _ template: Template
    ) -> (text: String?, problems: [(Template.Expression, Problem)]) {
        render(template, depth: 0)
    }

    private mutating func render(
        _ template: Template, depth: Int
    ) -> (text: String?, problems: [(Template.Expression, Problem)]) {
        var copy = self
        let result = template.render { expression in
            copy.lookup(expression.path ?? [], depth: depth)
        }
        usedSecret = usedSecret || copy.usedSecret
        return result
    }

    private mutating func lookup(_ path: [String], depth: Int) -> Result<String, Problem> {
        let name = path.joined(separator: ".")
        switch path.first {
        case "secrets":
            guard path.count == 2 else {
                return .failure(Problem(message: "write a secret as {{ secrets.NAME }}"))
            }
            guard destination == .confidential else {
                return .failure(Problem(
                    message: "secret '\(path[1])' would appear on a remote command line; pass "
                        + "it through env:"))
            }
            guard let value = secrets[path[1]] else {
                return .failure(Problem(
                    message: "unknown secret '\(path[1])'; declare it under secrets:"
                        + NearestName.hint(path[1], in: secrets.keys.sorted())))
            }
            usedSecret = true
            return .success(value)
        case "host":
            let builtins = [
                "name": host.name, "address": host.address, "port": String(host.port),
                "user": host.user,
            ]
            guard path.count == 2, let value = builtins[path[1]] else {
                return .failure(Problem(
                    message: "'\(name)' is not a built-in; use host.name, host.address, "
                        + "host.port or host.user"))
            }
            return .success(value)
        case "playbook_dir" where path.count == 1:
            return .success(playbookDir)
        default:
            break
        }

        guard var value = vars[path[0]] else {
            return .failure(Problem(
                message: "undefined variable '\(path[0])'"
                    + NearestName.hint(path[0], in: vars.keys.sorted())))
        }
        for (index, key) in path.enumerated().dropFirst() {
            guard case .map(let map) = value, let next = map[key] else {
                let parent = path[..<index].joined(separator: ".")
                return .failure(Problem(message: "undefined variable '\(name)': '\(parent)' has no key '\(key)'"))
            }
            value = next
        }
        guard case .string(let text) = value else {
            return .failure(Problem(
                message: "variable '\(name)' is a list or a mapping; only text can be written "
                    + "into a template (use '\(name).KEY' for a mapping's value)"))
        }

        // A variable may itself use variables: `release_dir: "{{ install_dir }}/releases"`.
        guard text.contains("{{") else { return .success(text) }
        guard depth < Self.maxNesting else {
            return .failure(Problem(message: "variable '\(name)' refers to itself, directly or through others"))
        }
        switch Template.parse(text) {
        case .failure(let error):
            return .failure(Problem(message: "in variable '\(name)': \(error.message)"))
        case .success(let inner):
            let (rendered, problems) = render(inner, depth: depth + 1)
            if let rendered { return .success(rendered) }
            let inner = problems[0].1.message
            // Name the outermost variable only: the chain to a loop adds nothing.
            if inner.hasPrefix("in variable '") { return .failure(problems[0].1) }
            return .failure(Problem(message: "in variable '\(name)': \(inner)"))
        }
    }
}
