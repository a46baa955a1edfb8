// Variables written back the way a user would write them in YAML's flow style, for
// `flotilla hosts --vars`.

extension Value: CustomStringConvertible {
    public var description: String {
        switch self {
        case .string(let text): Self.quotedIfNeeded(text)
        case .list(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .map(let map):
            "{ " + map.keys.sorted().map { "\($0): \(map[$0]!)" }.joined(separator: ", ") + " }"
        }
    }

    /// Plain when YAML would read the text back unchanged, double-quoted otherwise.
    private static func quotedIfNeeded(_ text: String) -> String {
        let special: Set<Character> = [
            ":", "#", ",", "[", "]", "{", "}", "&", "*", "!", "|", ">", "'", "\"", "%", "@", "`",
        ]
        let plain = !text.isEmpty && !text.contains(where: special.contains)
            && !text.contains(where: \.isNewline) && text.first != " " && text.last != " "
            && !["-", "?"].contains(text.first!)
        if plain { return text }
        var escaped = ""
        for character in text {
            switch character {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\t": escaped += "\\t"
            default: escaped.append(character)
            }
        }
        return "\"" + escaped + "\""
    }
}
