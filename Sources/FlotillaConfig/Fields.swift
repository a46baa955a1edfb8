// A mapping from a YAML file, read as keys with their values and positions.

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
