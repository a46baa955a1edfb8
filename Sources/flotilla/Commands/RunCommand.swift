import FlotillaConfig
import FlotillaEngine
import FoundationEssentials

/// `flotilla run PLAYBOOK`: load and check everything, then run it with the chosen output.
struct RunCommand: Command {
    static let spec = CommandSpec.run

    var playbookPath: String
    var inventory: InventoryChoice
    var extraVars: [String: String] = [:]
    var shard: Shard?
    var options = RunOptions()
    var output: OutputChoice
    var environment: [String: String]

    init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        playbookPath = try arguments.single("PLAYBOOK", command: "run")
        self.environment = environment
        inventory = InventoryChoice(arguments, environment: environment)
        output = try OutputChoice(arguments, command: "run")

        for pair in arguments.all("extra-var") {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw UsageError("'-e' takes KEY=VALUE (got '\(pair)')", command: "run")
            }
            extraVars[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        if let text = arguments.value("shard") {
            guard let shard = Shard.parse(text) else {
                throw UsageError(
                    "'--shard' takes K/N with 1 ≤ K ≤ N (got '\(text)')", command: "run")
            }
            self.shard = shard
        }
        options.check = arguments.has("check")
        options.diff = arguments.has("diff")
        options.resume = arguments.has("resume")
        options.stages = arguments.all("stage")
        options.forks = try Self.forks(arguments, command: "run") ?? options.forks
        options.logsFolder = arguments.value("logs") ?? options.logsFolder
    }

    /// `--forks N`, a positive count.
    static func forks(_ arguments: ParsedArguments, command: String) throws(UsageError) -> Int? {
        guard let text = arguments.value("forks") else { return nil }
        guard let forks = Int(text), forks > 0 else {
            throw UsageError(
                "'--forks' takes a positive number (got '\(text)')", command: command)
        }
        return forks
    }

    /// Everything a run needs, loaded and checked before any host is contacted.
    private struct Prepared {
        var playbook: Playbook
        var inventory: Inventory
        var secrets: Secrets
        var plans: [HostPlan]
    }

    func run() async throws -> Int32 {
        let mode = output.mode.resolved(
            environment: environment, stdoutIsTerminal: TextOutput.standardOutput.isTerminal)
        let prepared: Prepared
        do {
            guard let loaded = try prepare() else { return 0 }
            prepared = loaded
        } catch let error as DiagnosticError where mode == .github {
            // Also as annotations, so the problem shows on the file in the pull request.
            let annotations = error.diagnostics.map(GitHubOutput.annotation(for:))
            TextOutput.standardOutput.write(lines: annotations)
            throw error
        }

        let sink = output.makeOutput(environment: environment)
        let options = self.options
        let outcome = await Interrupts.run(output: sink) {
            await Engine.run(
                playbook: prepared.playbook, plans: prepared.plans,
                inventory: prepared.inventory, secrets: prepared.secrets, options: options,
                sink: sink)
        }
        return outcome.exitCode
    }

    /// Loads and checks every input; nil when this shard holds no host.
    private func prepare() throws -> Prepared? {
        let playbook = try Playbook.load(path: playbookPath)
        let inventory = try self.inventory.load()
        var hosts = try self.inventory.select(
            in: inventory,
            within: try inventory.select(playbook.hosts, at: playbook.hostsLocation))
        if let shard {
            hosts = shard.apply(to: hosts)
            if hosts.isEmpty {
                TextOutput.standardError.write(
                    lines: ["shard \(shard.index)/\(shard.count) holds no host; nothing to do"])
                return nil
            }
        }
        guard !hosts.isEmpty else {
            throw CommandFailure(
                "no host matches the playbook's hosts '\(playbook.hosts)'"
                    + (self.inventory.limit.map { " and -l '\($0)'" } ?? ""),
                exitCode: 2)
        }
        let known = playbook.stages.map(\.name)
        for stage in options.stages where !known.contains(stage) {
            throw CommandFailure(
                "the playbook has no stage '\(stage)'; its stages are "
                    + known.joined(separator: ", "),
                exitCode: 2)
        }
        let folder = LocalPath.folder(of: playbook.path)
        let secrets = try Secrets.resolve(
            playbook.secrets, relativeTo: folder.isEmpty ? "." : folder,
            environment: environment)
        let plans = try resolvePlans(
            playbook: playbook, hosts: hosts, extraVars: extraVars, secrets: secrets,
            inventory: inventory)
        return Prepared(playbook: playbook, inventory: inventory, secrets: secrets, plans: plans)
    }
}
