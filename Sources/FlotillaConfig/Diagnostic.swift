/// A place in an input file. Lines and columns count from 1.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}

/// One problem found in the input, reported like a compiler does:
/// `file:line:column: error: message`, then the source line and a caret under the column.
public struct Diagnostic: Sendable, Hashable {
    public enum Severity: String, Sendable { case error, warning, note }

    public var severity: Severity
    public var location: SourceLocation?
    public var message: String
    /// The line of the file the location points into, shown under the message.
    public var sourceLine: String?

    public init(
        _ severity: Severity = .error, at location: SourceLocation?, _ message: String,
        sourceLine: String? = nil
    ) {
        self.severity = severity
        self.location = location
        self.message = message
        self.sourceLine = sourceLine
    }
}

/// The problems of one load, all of them, not only the first. Thrown when any is an error;
/// the command exits 2 and no host is contacted.
public struct DiagnosticError: Error, Sendable {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics
    }
}
