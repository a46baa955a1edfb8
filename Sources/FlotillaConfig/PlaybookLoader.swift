// Reads a playbook file and checks everything that can be checked without a host: every
// key and type, secrets' declarations, handlers, stages, and every local file steps name.

import FoundationEssentials

struct PlaybookLoader {
    static let topKeys = [
        "name", "hosts", "serial", "max_failures", "vars", "secrets", "become_password",
        "stages", "handlers",
    ]

    var path: String
    var folder: String
    var log = DiagnosticLog()
    var secretNames: [String] = []
    var handlerNames: [String] = []

    init(path: String) {
        self.path = path
        folder = LocalPath.folder(of: path)
    }

    mutating func load() -> Playbook? {
        guard let data = FileManager.default.contents(atPath: path) else {
            log.error("cannot read playbook \(path): no such file, or it is not readable", at: nil)
            return nil
        }
        guard let root = YAMLParser.parse(Array(data), file: path, log: &log),
            let fields = log.fields(root, known: Self.topKeys, what: "a playbook")
        else { return nil }

        let defaultName = LocalPath.stem(of: path)
        var playbook = Playbook(path: path, name: defaultName, hosts: "all", stages: [])
        if let node = fields["name"] { playbook.name = log.string(node, "name") ?? defaultName }
        if let node = fields["hosts"] {
            playbook.hosts = log.string(node, "hosts") ?? "all"
            playbook.hostsLocation = node.location
            if HostPattern(playbook.hosts) == nil {
                log.error("'hosts' is not a host pattern: '\(playbook.hosts)'", at: node.location)
            }
        } else {
            log.error(
                "a playbook needs 'hosts:', the pattern of hosts it runs on (e.g. hosts: all)",
                at: fields.location)
        }
        if let node = fields["serial"] {
            playbook.serial = log.hostCount(node, "serial", minimum: 1)
        }
        if let node = fields["max_failures"] {
            playbook.maxFailures = log.hostCount(node, "max_failures", minimum: 0)
        }
        if let node = fields["vars"] { playbook.vars = log.vars(node) }
        if let node = fields["secrets"] { playbook.secrets = readSecrets(node) }
        secretNames = playbook.secrets.map(\.name)
        if let node = fields["become_password"], let name = log.string(node, "become_password") {
            if secretNames.contains(name) {
                playbook.becomePassword = name
            } else {
                log.error(
                    "'become_password' names '\(name)', which is not declared under 'secrets'"
                        + NearestName.hint(name, in: secretNames), at: node.location)
            }
        }

        // Handlers first, so steps' `notify:` can be checked against them.
        if let node = fields["handlers"] {
            let entries = log.namedEntries(node, what: "'handlers'")
            handlerNames = entries.map(\.name)
            for entry in entries {
                if var step = readStep(entry.value, what: "handler '\(entry.name)'") {
                    if !step.notify.isEmpty {
                        log.error(
                            "a handler cannot notify other handlers",
                            at: step.fieldLocations["notify"] ?? step.location)
                    }
                    step.name = step.name ?? entry.name
                    playbook.handlers.append(Handler(name: entry.name, step: step))
                }
            }
        }
        if let node = fields["stages"] {
            playbook.stages = readStages(node)
        } else {
            log.error(
                "a playbook needs 'stages:', a list of stages with their steps", at: fields.location
            )
        }
        playbook.warnings = log.warnings
        return playbook
    }

    // MARK: Secrets

    private mutating func readSecrets(_ node: YAMLNode) -> [SecretDeclaration] {
        var declarations: [SecretDeclaration] = []
        for entry in log.namedEntries(node, what: "'secrets'") {
            guard let text = log.string(entry.value, "secrets.\(entry.name)") else { continue }
            guard let source = SecretSource(parsing: text) else {
                log.error(
                    "secret '\(entry.name)' must come from env:NAME, file:PATH or command:CMD; "
                        + "the value itself does not belong in a playbook", at: entry.value.location
                )
                continue
            }
            if case .file(let file) = source {
                let resolved = LocalPath.resolve(file, folder: folder, home: home)
                if !FileManager.default.fileExists(atPath: resolved) {
                    log.error(
                        "secret '\(entry.name)': file \(file) does not exist (looked for "
                            + "\(resolved))", at: entry.value.location)
                }
            }
            declarations.append(
                SecretDeclaration(
                    name: entry.name, source: source, location: entry.value.location))
        }
        return declarations
    }

    var home: String { ProcessInfo.processInfo.environment["HOME"] ?? LocalPath.home }

    // MARK: Stages

    private mutating func readStages(_ node: YAMLNode) -> [Stage] {
        guard case .sequence(let items) = node.content else {
            log.error("'stages' must be a list of stages, not \(node.kindName)", at: node.location)
            return []
        }
        var stages: [Stage] = []
        for (index, item) in items.enumerated() {
            guard
                let fields = log.fields(
                    item, known: ["name", "parallel", "steps"], what: "a stage")
            else { continue }
            var stage = Stage(name: "stage \(index + 1)", steps: [], location: item.location)
            if let node = fields["name"], let name = log.string(node, "name") {
                if let twin = stages.first(where: { $0.name == name }) {
                    log.error(
                        "two stages are named '\(name)' (the first at line "
                            + "\(twin.location?.line ?? 0)); --stage needs distinct names",
                        at: node.location)
                }
                stage.name = name
            }
            if let node = fields["parallel"] {
                stage.parallel = log.int(node, "parallel", in: 1...Int.max)
            }
            guard let stepsNode = fields["steps"] else {
                log.error("stage '\(stage.name)' has no 'steps:'", at: item.location)
                continue
            }
            guard case .sequence(let stepNodes) = stepsNode.content else {
                log.error(
                    "'steps' must be a list of steps, not \(stepsNode.kindName)",
                    at: stepsNode.location)
                continue
            }
            stage.steps = stepNodes.compactMap { readStep($0, what: "a step") }
            stages.append(stage)
        }
        if items.isEmpty {
            log.error("'stages' is empty; a playbook needs at least one stage", at: node.location)
        }
        return stages
    }
}
