// The `-----BEGIN LABEL-----` … `-----END LABEL-----` armor around PEM and OpenSSH keys.

import FlotillaSupport
import FoundationEssentials

struct PEMArmor {
    let text: String
    /// `OPENSSH PRIVATE KEY`, `RSA PRIVATE KEY`, …
    let label: String
    /// The BEGIN and END lines are on one line: the line breaks became spaces, as when a
    /// key is pasted into a single-line field.
    let isOnOneLine: Bool

    init?(_ text: String) {
        guard let begin = text.firstRange(of: "-----BEGIN ") else { return nil }
        // The label ends on its own line: a BEGIN line that lost its closing dashes must not
        // take the key's text up to the END line for its label, which messages quote.
        let line = text[begin.upperBound...].prefix { $0 != "\n" }
        guard let close = line.firstRange(of: "-----"), Self.isLabel(line[..<close.lowerBound])
        else { return nil }
        self.text = text
        self.label = String(line[..<close.lowerBound])
        self.isOnOneLine = line[close.upperBound...].contains("-----END ")
    }

    /// Upper-case letters, digits and spaces, as in every label in use (`RSA PRIVATE KEY`,
    /// `CERTIFICATE`): base64 key text never passes for one.
    private static func isLabel(_ text: Substring) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.utf8.allSatisfy {
                (0x41...0x5A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x20
            }
    }

    private var beginLine: String { "-----BEGIN \(label)-----" }
    private var endLine: String { "-----END \(label)-----" }

    /// The base64 between the armor lines, and any `Name: value` headers (legacy
    /// encrypted PEM); nil when the END line is missing.
    func body() -> (base64: String, headers: [String])? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.trimmingBlanks() }
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
        guard let begin = text.firstRange(of: beginLine),
            let end = text[begin.upperBound...].firstRange(of: endLine)
        else { return nil }
        let tokens = text[begin.upperBound..<end.lowerBound].split(whereSeparator: \.isWhitespace)
        guard !tokens.isEmpty, !tokens.contains(where: { $0.contains(":") }) else { return nil }
        return ([beginLine] + tokens.map(String.init) + [endLine]).joined(separator: "\n") + "\n"
    }
}
