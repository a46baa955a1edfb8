import FlotillaConfig
import FoundationEssentials

/// `flotilla validate PLAYBOOK`: load and check everything a run would, contacting nothing.
/// Secrets are not read (CI jobs without access to them can validate too): every template
/// is rendered with a stand-in for each secret.
struct ValidateCommand: Command {
    static let spec = CommandSpec.validate

    var playbookPath: String
    var inventory: InventoryChoice

    init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        playbookPath = try arguments.single("PLAYBOOK", command: "validate")
        inventory = InventoryChoice(arguments, environment: environment)
    }

    func run() async throws -> Int32 {
        let playbook = try Playbook.load(path: playbookPath)
        let inventory = try self.inventory.load()
        let hosts = try inventory.select(playbook.hosts, at: playbook.hostsLocation)
        var standIns: [String: String] = [:]
        for declaration in playbook.secrets {
            standIns[declaration.name] = "<secret \(declaration.name)>"
        }
        _ = try resolvePlans(
            playbook: playbook, hosts: hosts, extraVars: [:], secrets: Secrets(values: standIns),
            inventory: inventory)

        let steps = playbook.stages.map(\.steps.count).reduce(0, +)
        TextOutput.standardOutput.write(lines: [
            "ok: \(Plural.count(hosts.count, "host")), \(playbook.stages.count) stages, \(steps) steps",
        ])
        return 0
    }
}
