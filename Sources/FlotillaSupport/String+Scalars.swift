// Trimming and replacing by Unicode scalar rather than by Character, so that a line feed
// inside a CR LF pair, or a quote followed by a combining mark, is found like any other.

extension StringProtocol {
    /// The text without the leading and trailing scalars that `isTrimmed` accepts.
    package func trimming(while isTrimmed: (Unicode.Scalar) -> Bool) -> String {
        let scalars = Substring(self).unicodeScalars
        guard let first = scalars.firstIndex(where: { !isTrimmed($0) }),
            let last = scalars.lastIndex(where: { !isTrimmed($0) })
        else { return "" }
        return String(scalars[first...last])
    }

    /// The text without spaces and tabs at either end.
    package func trimmingBlanks() -> String {
        trimming(while: \.isBlank)
    }

    /// The text without spaces, tabs and line breaks at either end.
    package func trimmingWhitespace() -> String {
        trimming(while: { $0.isBlank || $0.isLineBreak })
    }

    /// The text with every occurrence of `target` replaced, leftmost first. Matching the
    /// UTF-8 bytes matches whole scalars, since no scalar's bytes start inside another's;
    /// this runs for every script and program sent to a host, so it is a byte search.
    package func replacingEvery(_ target: String, with replacement: String) -> String {
        let pattern = Array(target.utf8)
        guard !pattern.isEmpty else { return String(self) }
        let bytes = Array(utf8)
        guard var found = bytes.firstOffset(of: pattern) else { return String(self) }
        let substitute = Array(replacement.utf8)
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + substitute.count)
        var index = 0
        while true {
            result += bytes[index..<found]
            result += substitute
            index = found + pattern.count
            guard let next = bytes[index...].firstOffset(of: pattern) else { break }
            found = index + next
        }
        result += bytes[index...]
        return String(decoding: result, as: UTF8.self)
    }
}

extension Unicode.Scalar {
    /// A tab, or a space of any width down to zero: Unicode category Zs (which includes
    /// no-break spaces) and the zero width space.
    package var isBlank: Bool {
        self == "\t" || self == "\u{200B}" || properties.generalCategory == .spaceSeparator
    }

    /// LF, VT, FF, CR, NEL, or the Unicode line and paragraph separators.
    package var isLineBreak: Bool {
        ("\n"..."\r").contains(self) || self == "\u{85}" || self == "\u{2028}"
            || self == "\u{2029}"
    }
}
