// The `-----BEGIN LABEL-----` … `-----END LABEL-----` armor around PEM and OpenSSH keys.

import Foundation

struct PEMArmor {
    let text: String
    /// `OPENSSH PRIVATE KEY`, `RSA PRIVATE KEY`, …
    let label: String
    /// The BEGIN and END lines are on one line: the line breaks became spaces, as when a
    /// key is pasted into a single-line field.
    let isOnOneLine: Bool

    init?(_ text: String) {
        guard let begin = text.range(of: "-----BEGIN "),
            let close = text.range(of: "-----", range: begin.upperBound..<text.endIndex)
        else { return nil }
        self.text = text
        self.label = String(text[begin.upperBound..<close.lowerBound])
        let restOfLine = text[close.upperBound...].prefix { $0 != "\n" }
        self.isOnOneLine = restOfLine.contains("-----END ")
    }

    private var beginLine: String { "-----BEGIN \(label)-----" }
    private var endLine: String { "-----END \(label)-----" }

    /// The base64 between the armor lines, and any `Name: value` headers (legacy
    /// encrypted PEM); nil when the END line is missing.
    func body() -> (base64: String, headers: [String])? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let start = lines.firstIndex(of: beginLine),
            let end = lines[start...].firstIndex(of: endLine)
        else { return nil }
        let inside = lines[(start + 1)..<end].filter { !$0.isEmpty }
        let headers = inside.filter { $0.contains(":") }
        let base64 = inside.filter { !$0.contains(":") }.joined()
        return (base64, headers)
    }

    /// The key with its line breaks back, when it has no headers to place (a header needs
    /// a blank line after it, which cannot be told from spaces).
    func restoringLineBreaks() -> String? {
        guard let begin = text.range(of: beginLine),
            let end = text.range(of: endLine, range: begin.upperBound..<text.endIndex)
        else { return nil }
        let tokens = text[begin.upperBound..<end.lowerBound].split(whereSeparator: \.isWhitespace)
        guard !tokens.isEmpty, !tokens.contains(where: { $0.contains(":") }) else { return nil }
        return ([beginLine] + tokens.map(String.init) + [endLine]).joined(separator: "\n") + "\n"
    }
}
