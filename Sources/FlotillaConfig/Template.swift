// `{{ name }}` substitution, in string values of a playbook and in template files.
// An expression is a variable path (`install_dir`, `host.name`, `db.port`) or a quoted
// literal (`{{ '{{' }}` writes `{{`). Nothing else: no filters, no logic, no defaults, so
// an undefined variable is always an error and never an empty string.

import FlotillaSupport

struct Template: Sendable, Hashable {
    struct Expression: Sendable, Hashable {
        /// The expression as written, braces included, to find it in the source again.
        var raw: String
        /// The variable path, or nil for a literal.
        var path: [String]?
        var literal: String?
        /// Line and column of `{{` inside the template text, counting from 1.
        var line: Int
        var column: Int
    }

    enum Part: Sendable, Hashable {
        case text(String)
        case expression(Expression)
    }

    struct SyntaxError: Error, Sendable {
        var message: String
        var line: Int
        var column: Int
    }

    var parts: [Part]

    var expressions: [Expression] {
        parts.compactMap { if case .expression(let e) = $0 { e } else { nil } }
    }

    /// True when the text holds no `{{` at all, so rendering is a copy.
    var isPlain: Bool { expressions.isEmpty }

    static func parse(_ text: String) -> Result<Template, SyntaxError> {
        var parts: [Part] = []
        var literal = ""
        var line = 1
        var column = 1
        var index = text.startIndex

        func advance(over piece: Substring) {
            for character in piece {
                if character == "\n" {
                    line += 1
                    column = 1
                } else {
                    column += 1
                }
            }
        }

        while index < text.endIndex {
            guard let open = text[index...].firstRange(of: "{{") else {
                literal += text[index...]
                break
            }
            literal += text[index..<open.lowerBound]
            advance(over: text[index..<open.lowerBound])
            let (startLine, startColumn) = (line, column)

            var cursor = open.upperBound
            while cursor < text.endIndex, text[cursor] == " " { cursor = text.index(after: cursor) }
            var quoted: String?
            if cursor < text.endIndex, text[cursor] == "'" || text[cursor] == "\"" {
                let quote = text[cursor]
                let afterQuote = text.index(after: cursor)
                guard let end = text[afterQuote...].firstIndex(of: quote) else {
                    return .failure(
                        SyntaxError(
                            message: "unclosed quote in '{{'", line: startLine, column: startColumn)
                    )
                }
                quoted = String(text[afterQuote..<end])
                cursor = text.index(after: end)
            }
            guard let close = text[cursor...].firstRange(of: "}}") else {
                return .failure(
                    SyntaxError(
                        message: "'{{' is never closed by '}}'; to write braces literally, use "
                            + "{{ '{{' }}", line: startLine, column: startColumn))
            }
            let raw = String(text[open.lowerBound..<close.upperBound])
            let inside = text[cursor..<close.lowerBound].trimmingBlanks()
            var expression = Expression(
                raw: raw, path: nil, literal: nil, line: startLine, column: startColumn)
            if let quoted {
                guard inside.isEmpty else {
                    return .failure(
                        SyntaxError(
                            message: "\(raw) holds more than a quoted text", line: startLine,
                            column: startColumn))
                }
                expression.literal = quoted
            } else {
                let path = inside.split(separator: ".", omittingEmptySubsequences: false)
                    .map(String.init)
                guard !inside.isEmpty, path.allSatisfy(isName) else {
                    return .failure(
                        SyntaxError(
                            message: "\(raw) is not a variable name; a template holds names like "
                                + "{{ install_dir }} or {{ host.name }}", line: startLine,
                            column: startColumn))
                }
                expression.path = path
            }
            if !literal.isEmpty { parts.append(.text(literal)) }
            literal = ""
            parts.append(.expression(expression))
            advance(over: text[open.lowerBound..<close.upperBound])
            index = close.upperBound
        }
        if !literal.isEmpty { parts.append(.text(literal)) }
        return .success(Template(parts: parts))
    }

    private static func isName(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter || first == "_" else { return false }
        return text.allSatisfy {
            $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-")
        }
    }

    /// Renders with `lookup` giving each path's text or a problem; every problem is
    /// returned with its expression, and nil text when there was any.
    func render(
        _ lookup: (Expression) -> Result<String, TemplateScope.Problem>
    ) -> (text: String?, problems: [(Expression, TemplateScope.Problem)]) {
        var output = ""
        var problems: [(Expression, TemplateScope.Problem)] = []
        for part in parts {
            switch part {
            case .text(let text): output += text
            case .expression(let expression):
                if let literal = expression.literal {
                    output += literal
                    continue
                }
                switch lookup(expression) {
                case .success(let text): output += text
                case .failure(let problem): problems.append((expression, problem))
                }
            }
        }
        return (problems.isEmpty ? output : nil, problems)
    }
}
