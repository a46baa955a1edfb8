// Typed reading of YAML nodes. Each reader reports a wrong value at the value's own position
// and returns nil, so loading goes on and every mistake of a file is found in one pass.

/// The keys of one mapping, checked against the keys allowed there.
struct Fields {
    var entries: [(name: String, key: YAMLNode, value: YAMLNode)]
    var location: SourceLocation

    subscript(name: String) -> YAMLNode? {
        entries.first { $0.name == name }?.value
    }

    func has(_ name: String) -> Bool { self[name] != nil }

    func keyLocation(_ name: String) -> SourceLocation? {
        entries.first { $0.name == name }?.key.location
    }
}

extension DiagnosticLog {
    /// The entries of a mapping; unknown keys are errors that suggest the nearest known one.
    /// An empty value (`web-1:`) reads as an empty mapping.
    mutating func fields(_ node: YAMLNode, known: [String], what: String) -> Fields? {
        if node.isNull { return Fields(entries: [], location: node.location) }
        guard case .mapping(let entries) = node.content else {
            error("\(what) must be a mapping of keys to values, not \(node.kindName)", at: node.location)
            return nil
        }
        var fields = Fields(entries: [], location: node.location)
        for entry in entries {
            guard let name = entry.key.scalar else { continue }
            if known.contains(name) {
                fields.entries.append((name, entry.key, entry.value))
            } else {
                let hint = NearestName.to(name, in: known).map { "; did you mean '\($0)'?" }
                    ?? "; known keys are " + known.map { "'\($0)'" }.joined(separator: ", ")
                error("unknown key '\(name)' in \(what)\(hint)", at: entry.key.location)
            }
        }
        return fields
    }

    /// The entries of a mapping whose keys are names the user chooses (hosts, groups, vars).
    mutating func namedEntries(
        _ node: YAMLNode, what: String
    ) -> [(name: String, key: YAMLNode, value: YAMLNode)] {
        if node.isNull { return [] }
        guard case .mapping(let entries) = node.content else {
            error("\(what) must be a mapping of names to values, not \(node.kindName)", at: node.location)
            return []
        }
        return entries.compactMap { entry in
            entry.key.scalar.map { ($0, entry.key, entry.value) }
        }
    }

    mutating func string(_ node: YAMLNode, _ key: String) -> String? {
        guard let text = node.scalar, !node.isNull else {
            error("'\(key)' must be a text value, not \(node.kindName)", at: node.location)
            return nil
        }
        return text
    }

    mutating func bool(_ node: YAMLNode, _ key: String) -> Bool? {
        switch node.style == .plain ? node.scalar : nil {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default:
            error("'\(key)' must be true or false, not \(describe(node))", at: node.location)
            return nil
        }
    }

    mutating func int(_ node: YAMLNode, _ key: String, in range: ClosedRange<Int>) -> Int? {
        guard node.style == .plain, let text = node.scalar, let value = Int(text),
            range.contains(value)
        else {
            let bounds = range.upperBound == Int.max
                ? "a whole number of at least \(range.lowerBound)"
                : "a whole number from \(range.lowerBound) to \(range.upperBound)"
            error("'\(key)' must be \(bounds), not \(describe(node))", at: node.location)
            return nil
        }
        return value
    }

    mutating func duration(_ node: YAMLNode, _ key: String) -> Duration? {
        guard let text = node.scalar, !node.isNull else {
            error("'\(key)' must be a duration like 90s, 15m or 1h, not \(node.kindName)", at: node.location)
            return nil
        }
        if let duration = DurationText.parse(text) { return duration }
        if Int(text) != nil {
            error(
                "'\(key)' needs a unit: write \(text)s, \(text)m or \(text)h "
                    + "(a bare number would be ambiguous)", at: node.location)
        } else {
            error(
                "'\(key)' is not a duration: '\(text)'; write it like 90s, 15m, 1h, 1m30s "
                    + "or 500ms", at: node.location)
        }
        return nil
    }

    /// A single text value or a list of them.
    mutating func stringList(_ node: YAMLNode, _ key: String) -> [String]? {
        stringItems(node, key)?.map(\.text)
    }

    /// A single text value or a list of them, each with its own position.
    mutating func stringItems(
        _ node: YAMLNode, _ key: String
    ) -> [(text: String, location: SourceLocation)]? {
        switch node.content {
        case .scalar:
            return string(node, key).map { [($0, node.location)] }
        case .sequence(let items):
            var result: [(text: String, location: SourceLocation)] = []
            for item in items {
                guard let text = string(item, key) else { return nil }
                result.append((text, item.location))
            }
            return result
        case .mapping:
            error("'\(key)' must be a text value or a list of them, not a mapping", at: node.location)
            return nil
        }
    }

    /// A mapping of names to text values (`env:`).
    mutating func stringMap(_ node: YAMLNode, _ key: String) -> [String: String]? {
        guard case .mapping = node.content else {
            error("'\(key)' must be a mapping of names to values, not \(node.kindName)", at: node.location)
            return nil
        }
        var result: [String: String] = [:]
        for entry in namedEntries(node, what: "'\(key)'") {
            guard let text = entry.value.scalar, !entry.value.isNull else {
                error(
                    "'\(key).\(entry.name)' must be a text value, not \(entry.value.kindName)",
                    at: entry.value.location)
                continue
            }
            result[entry.name] = text
        }
        return result
    }

    /// File permissions, only as a quoted octal string: YAML 1.1 reads a bare `0600` as 384
    /// and YAML 1.2 as 600, so a bare number cannot be trusted to mean what the user meant.
    mutating func mode(_ node: YAMLNode, _ key: String) -> UInt32? {
        guard let text = node.scalar, !node.isNull else {
            error("'\(key)' must be a quoted octal string like \"0644\"", at: node.location)
            return nil
        }
        if node.style == .plain {
            error(
                "'\(key)' must be quoted, like \(key): \"\(text)\"; YAML reads a bare \(text) "
                    + "as a decimal or octal number depending on the parser", at: node.location)
            return nil
        }
        guard (3...4).contains(text.count), text.allSatisfy({ ("0"..."7").contains($0) }),
            let value = UInt32(text, radix: 8)
        else {
            error(
                "'\(key)' must be 3 or 4 octal digits like \"0644\" or \"755\", not '\(text)'",
                at: node.location)
            return nil
        }
        return value
    }

    /// `serial` and `max_failures`: a count or a percentage of the hosts.
    mutating func hostCount(_ node: YAMLNode, _ key: String, minimum: Int) -> HostCount? {
        if let text = node.scalar, text.hasSuffix("%") {
            guard let percent = Int(text.dropLast()), (minimum...100).contains(percent) else {
                error("'\(key)' must be a percentage from \(minimum)% to 100%, not '\(text)'", at: node.location)
                return nil
            }
            return .percent(percent)
        }
        guard node.style == .plain, let text = node.scalar, let count = Int(text),
            count >= minimum
        else {
            error(
                "'\(key)' must be a whole number of at least \(minimum) or a percentage like "
                    + "\"25%\", not \(describe(node))", at: node.location)
            return nil
        }
        return .count(count)
    }

    /// Any YAML value as a variable; scalars keep their text.
    func value(_ node: YAMLNode) -> Value {
        switch node.content {
        case .scalar(let text, _): return .string(node.isNull ? "" : text)
        case .sequence(let items): return .list(items.map(value))
        case .mapping(let entries):
            var map: [String: Value] = [:]
            for entry in entries {
                if let key = entry.key.scalar { map[key] = value(entry.value) }
            }
            return .map(map)
        }
    }

    /// Variables: a mapping of names to values.
    mutating func vars(_ node: YAMLNode) -> [String: Value] {
        var result: [String: Value] = [:]
        for entry in namedEntries(node, what: "'vars'") {
            result[entry.name] = value(entry.value)
        }
        return result
    }

    private func describe(_ node: YAMLNode) -> String {
        if let text = node.scalar, !node.isNull { return "'\(text)'" }
        return node.kindName
    }
}
