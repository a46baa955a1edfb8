// Collects every problem of a load instead of stopping at the first, and keeps the text of
// each file read so a diagnostic can show its source line.

struct DiagnosticLog: Sendable {
    private(set) var diagnostics: [Diagnostic] = []
    /// Lines of every file read, by path as the user gave it, in the order they were read.
    private var lines: [String: [String]] = [:]
    private var fileOrder: [String] = []

    var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
    var warnings: [Diagnostic] { sorted(diagnostics.filter { $0.severity == .warning }) }

    mutating func addSource(file: String, text: String) {
        if lines[file] == nil { fileOrder.append(file) }
        lines[file] = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? String($0.dropLast()) : String($0)
        }
    }

    func sourceLine(_ location: SourceLocation) -> String? {
        guard let fileLines = lines[location.file], location.line >= 1,
            location.line <= fileLines.count
        else { return nil }
        return fileLines[location.line - 1]
    }

    /// The place of a piece of text (a `{{ … }}`) written inside the value at `location`:
    /// found by searching the source from there, since quotes and escapes shift columns.
    func locate(_ text: String, near location: SourceLocation?) -> SourceLocation? {
        guard let location else { return nil }
        for offset in 0..<50 {
            let probe = SourceLocation(file: location.file, line: location.line + offset, column: 1)
            guard let line = sourceLine(probe) else { break }
            let from = offset == 0 ? max(0, location.column - 1) : 0
            guard from <= line.count else { continue }
            if let range = line.dropFirst(from).firstRange(of: text) {
                let column = line.distance(from: line.startIndex, to: range.lowerBound) + 1
                return SourceLocation(file: location.file, line: probe.line, column: column)
            }
        }
        return location
    }

    mutating func error(_ message: String, at location: SourceLocation?) {
        add(Diagnostic(.error, at: location, message))
    }

    mutating func warning(_ message: String, at location: SourceLocation?) {
        add(Diagnostic(.warning, at: location, message))
    }

    mutating func add(_ diagnostic: Diagnostic) {
        var diagnostic = diagnostic
        if diagnostic.sourceLine == nil, let location = diagnostic.location {
            diagnostic.sourceLine = sourceLine(location)
        }
        // The same mistake found twice (say, once per host) is reported once.
        if !diagnostics.contains(diagnostic) { diagnostics.append(diagnostic) }
    }

    mutating func merge(_ other: DiagnosticLog) {
        for file in other.fileOrder where lines[file] == nil {
            fileOrder.append(file)
            lines[file] = other.lines[file]
        }
        for diagnostic in other.diagnostics { add(diagnostic) }
    }

    /// Throws every diagnostic, in file order, when any of them is an error.
    func check() throws(DiagnosticError) {
        if hasErrors { throw DiagnosticError(sorted(diagnostics)) }
    }

    /// Files in the order they were read, then by line and column; unplaced ones last.
    func sorted(_ list: [Diagnostic]) -> [Diagnostic] {
        func key(_ d: Diagnostic) -> (Int, Int, Int) {
            guard let location = d.location else { return (Int.max, 0, 0) }
            let file = fileOrder.firstIndex(of: location.file) ?? fileOrder.count
            return (file, location.line, location.column)
        }
        return list.enumerated().sorted { a, b in
            let (ka, kb) = (key(a.element), key(b.element))
            return ka != kb ? ka < kb : a.offset < b.offset
        }.map(\.element)
    }
}
