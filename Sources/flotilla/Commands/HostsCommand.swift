import FlotillaConfig
import FlotillaSSH

/// `flotilla hosts`: what a pattern selects, without contacting anything.
struct HostsCommand: Command {
    static let spec = CommandSpec.hosts

    var inventory: InventoryChoice
    var showVars: Bool

    init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        try arguments.expectNoPositionals(command: "hosts")
        inventory = try InventoryChoice(arguments, environment: environment, command: "hosts")
        showVars = arguments.has("vars")
    }

    func run() async throws -> Int32 {
        let inventory = try self.inventory.load()
        let hosts = try self.inventory.select(in: inventory)
        let rows = hosts.map { host in
            [host.name, Self.address(host), host.user, host.groups.joined(separator: ", ")]
        }
        let table = Table(header: ["host", "address", "user", "groups"], rows: rows).lines()
        var lines = [table[0]]
        for (host, row) in zip(hosts, table.dropFirst()) {
            lines.append(row)
            guard showVars else { continue }
            for name in host.vars.keys.sorted() {
                lines.append("    \(name): \(Self.render(host.vars[name]!))")
            }
        }
        TextOutput.standardOutput.write(lines: lines)
        return 0
    }

    /// `address:port`, IPv6 in brackets.
    static func address(_ host: InventoryHost) -> String {
        address(host: host.address, port: host.port)
    }

    static func address(host: String, port: Int) -> String {
        Endpoint(host: host, port: port).description
    }

    /// A variable's value in YAML's flow style: `a`, `[a, b]`, `{k: v}`.
    static func render(_ value: Value) -> String {
        switch value {
        case .string(let text): text
        case .list(let items): "[" + items.map(render).joined(separator: ", ") + "]"
        case .map(let entries):
            "{" + entries.keys.sorted().map { "\($0): \(render(entries[$0]!))" }
                .joined(separator: ", ") + "}"
        }
    }
}
