import FlotillaConfig

/// Which inventory files a command reads and which of their hosts it selects: `-i` (repeated,
/// later files win), else `$FLOTILLA_INVENTORY`, else `./inventory.yml`; then `-l PATTERN`.
struct InventoryChoice: Sendable {
    var files: [String]
    var limit: String?
    var environment: [String: String]

    init(_ arguments: ParsedArguments, environment: [String: String]) {
        self.environment = environment
        limit = arguments.value("limit")
        files = arguments.all("inventory")
    }

    /// Loads the inventory; its warnings go to stderr, once, before anything else happens.
    func load() throws(DiagnosticError) -> Inventory {
        let inventory = try Inventory.loadDefault(explicit: files, environment: environment)
        TextOutput.standardError.write(lines: inventory.warnings.map { $0.rendered() })
        return inventory
    }

    /// The hosts `-l` selects (all without it), within `base` when given.
    func select(
        in inventory: Inventory, within base: [InventoryHost]? = nil
    ) throws(DiagnosticError) -> [InventoryHost] {
        var limited: [InventoryHost]?
        if let limit {
            limited = try inventory.select(limit)
        }
        guard let base else { return limited ?? inventory.hosts }
        guard let limited else { return base }
        let names = Set(limited.map(\.name))
        return base.filter { names.contains($0.name) }
    }
}
