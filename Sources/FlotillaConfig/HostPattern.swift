// Host patterns (PRODUCT §2): `all`, names, groups, globs, `!x` to exclude, `&x` to
// intersect, comma lists. The result is the union of the plain terms (all hosts when there
// is none), narrowed by each `&` term, minus each `!` term, in inventory order.

import FlotillaSupport

struct HostPattern: Sendable {
    enum Operator: Sendable { case union, intersect, exclude }

    struct Term: Sendable {
        var op: Operator
        var text: String
    }

    var text: String
    var terms: [Term]

    /// Splits the pattern into terms; nil with a message when it has none.
    init?(_ text: String) {
        self.text = text
        terms = text.split(separator: ",").compactMap { raw in
            let item = raw.trimmingBlanks()
            if item.hasPrefix("!") {
                return Term(op: .exclude, text: item.dropFirst().trimmingBlanks())
            }
            if item.hasPrefix("&") {
                return Term(op: .intersect, text: item.dropFirst().trimmingBlanks())
            }
            return item.isEmpty ? nil : Term(op: .union, text: item)
        }
        if terms.isEmpty || terms.contains(where: { $0.text.isEmpty }) { return nil }
    }

    /// Names and groups in the pattern that the inventory does not know (globs excepted).
    func unknownNames(in inventory: Inventory) -> [String] {
        terms.map(\.text).filter { name in
            name != "all" && !Glob.isGlob(name) && inventory.groups[name] == nil
                && !inventory.hosts.contains { $0.name == name }
        }
    }

    func select(from inventory: Inventory) -> [InventoryHost] {
        inventory.hosts.filter(matches)
    }

    /// Whether one host is selected, judged from its own name and groups.
    func matches(_ host: InventoryHost) -> Bool {
        let positives = terms.filter { $0.op == .union }
        var selected = positives.isEmpty || positives.contains { covers($0.text, host) }
        for term in terms where term.op == .intersect {
            selected = selected && covers(term.text, host)
        }
        for term in terms where term.op == .exclude {
            selected = selected && !covers(term.text, host)
        }
        return selected
    }

    private func covers(_ name: String, _ host: InventoryHost) -> Bool {
        if name == "all" { return true }
        if Glob.isGlob(name) { return Glob.matches(name, host.name) }
        return host.name == name || host.groups.contains(name)
    }

    static func errors(
        for text: String, in inventory: Inventory, at location: SourceLocation?
    ) -> [Diagnostic] {
        guard let pattern = HostPattern(text) else {
            return [
                Diagnostic(
                    at: location,
                    "'\(text)' is not a host pattern; name hosts or groups, like web,!web-3")
            ]
        }
        let known = inventory.hosts.map(\.name) + inventory.groups.keys.sorted() + ["all"]
        return pattern.unknownNames(in: inventory).map { name in
            Diagnostic(
                at: location,
                "unknown host or group '\(name)' in pattern '\(text)'"
                    + NearestName.hint(name, in: known))
        }
    }
}
