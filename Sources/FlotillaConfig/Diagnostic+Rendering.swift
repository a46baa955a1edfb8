// Diagnostics printed the way compilers print them, so editors and CI annotate the line.

extension Diagnostic {
    /// `file:line:column: error: message`, then the source line and a caret under the
    /// column (tabs in the line are kept so the caret lines up).
    public func rendered() -> String {
        guard let location else { return "\(severity.rawValue): \(message)" }
        var text = "\(location): \(severity.rawValue): \(message)"
        guard let sourceLine else { return text }
        let before = sourceLine.prefix(max(0, location.column - 1))
        let padding = String(before.map { $0 == "\t" ? "\t" : " " })
        text += "\n\(sourceLine)\n\(padding)^"
        return text
    }
}

extension DiagnosticError: CustomStringConvertible {
    public var description: String { rendered() }
}
