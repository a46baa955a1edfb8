import FlotillaConfig
import Foundation

/// Which inventory files a command reads and which of their hosts it selects: `-i` (repeated,
/// later files win), else `$FLOTILLA_INVENTORY`, else `./inventory.yml`; then `-l PATTERN`.
struct InventoryChoice: Sendable {
    var files: [String]
    var limit: String?
    var environment: [String: String]

    init(_ arguments: ParsedArguments, environment: [String: String], command: String)
        throws(UsageError)
    {
        self.environment = environment
        limit = arguments.value("limit")
        let given = arguments.all("inventory")
        if !given.isEmpty {
            files = given
        } else if let path = environment["FLOTILLA_INVENTORY"], !path.isEmpty {
            files = [path]
        } else if FileManager.default.fileExists(atPath: "inventory.yml") {
            files = ["inventory.yml"]
        } else {
            throw UsageError(
                "no inventory: give one with -i FILE, set FLOTILLA_INVENTORY, "
                    + "or create ./inventory.yml",
                command: command)
        }
    }

    func load() throws(DiagnosticError) -> Inventory {
        try Inventory.load(files: files, environment: environment)
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
