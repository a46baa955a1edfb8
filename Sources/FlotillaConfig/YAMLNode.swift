// A YAML document as a tree of nodes that remember where they were written, so any later
// check (a bad port, an undefined variable) can point at the exact line and column.

struct YAMLNode: Sendable {
    enum ScalarStyle: Sendable {
        case plain, singleQuoted, doubleQuoted, literal, folded
    }

    struct Entry: Sendable {
        var key: YAMLNode
        var value: YAMLNode
    }

    enum Content: Sendable {
        case scalar(String, ScalarStyle)
        case sequence([YAMLNode])
        case mapping([Entry])
    }

    var content: Content
    var location: SourceLocation
    /// Nodes in this subtree, counted to bound what aliases may expand to.
    var size: Int

    init(_ content: Content, at location: SourceLocation) {
        self.content = content
        self.location = location
        switch content {
        case .scalar: size = 1
        case .sequence(let items): size = items.reduce(1) { $0 + $1.size }
        case .mapping(let entries):
            size = entries.reduce(1) { $0 + $1.key.size + $1.value.size }
        }
    }

    /// The text of a scalar; nil for sequences and mappings.
    var scalar: String? {
        if case .scalar(let text, _) = content { return text }
        return nil
    }

    var style: ScalarStyle? {
        if case .scalar(_, let style) = content { return style }
        return nil
    }

    /// A plain `~`, `null` or empty scalar: YAML's way of writing nothing.
    var isNull: Bool {
        guard case .scalar(let text, .plain) = content else { return false }
        return text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
    }

    /// What a user would call this kind of value, for messages.
    var kindName: String {
        switch content {
        case .scalar: isNull ? "nothing" : "a scalar"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }
}
