// Reads YAML text into located nodes with libyaml's event parser. The tree is built with an
// explicit stack, so deeply nested input cannot overflow the call stack, and aliases are
// expanded under a budget, so a small file cannot blow up into an enormous tree.

internal import CYAML

struct YAMLParser {
    static let maxDepth = 64
    static let maxNodes = 200_000

    private enum Frame {
        case sequence([YAMLNode], SourceLocation, anchor: String?)
        case mapping([YAMLNode.Entry], pendingKey: YAMLNode?, SourceLocation, anchor: String?)
    }

    let file: String

    /// Parses one document; nil when the text is not YAML (the log says why). An empty
    /// document gives an empty mapping.
    static func parse(_ bytes: [UInt8], file: String, log: inout DiagnosticLog) -> YAMLNode? {
        log.addSource(file: file, text: String(decoding: bytes, as: UTF8.self))
        var bytes = bytes
        return bytes.withUnsafeMutableBufferPointer { buffer in
            YAMLParser(file: file).run(buffer, log: &log)
        }
    }

    private func location(_ mark: yaml_mark_t) -> SourceLocation {
        SourceLocation(file: file, line: Int(mark.line) + 1, column: Int(mark.column) + 1)
    }

    private func run(
        _ buffer: UnsafeMutableBufferPointer<UInt8>, log: inout DiagnosticLog
    ) -> YAMLNode? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            log.error("cannot start the YAML parser (out of memory)", at: nil)
            return nil
        }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)

        var stack: [Frame] = []
        var anchors: [String: YAMLNode] = [:]
        var root: YAMLNode?
        var documents = 0
        var total = 0

        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else {
                reportSyntaxError(parser, buffer: buffer, log: &log)
                return nil
            }
            defer { yaml_event_delete(&event) }
            let at = location(event.start_mark)

            var finished: YAMLNode?
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return root ?? YAMLNode(.mapping([]), at: at)
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 {
                    log.error(
                        "a file holds one YAML document; remove this '---' and what follows", at: at
                    )
                    return nil
                }
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                let text = string(scalar.value, count: scalar.length)
                let style: YAMLNode.ScalarStyle =
                    switch scalar.style {
                    case YAML_SINGLE_QUOTED_SCALAR_STYLE: .singleQuoted
                    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: .doubleQuoted
                    case YAML_LITERAL_SCALAR_STYLE: .literal
                    case YAML_FOLDED_SCALAR_STYLE: .folded
                    default: .plain
                    }
                let node = YAMLNode(.scalar(text, style), at: at)
                if let anchor = optionalString(scalar.anchor) { anchors[anchor] = node }
                finished = node
            case YAML_ALIAS_EVENT:
                let name = optionalString(event.data.alias.anchor) ?? ""
                guard let target = anchors[name] else {
                    log.error("alias '*\(name)' names no anchor defined before it", at: at)
                    return nil
                }
                var copy = target
                copy.location = at
                finished = copy
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                guard stack.count < Self.maxDepth else {
                    log.error("values nested more than \(Self.maxDepth) levels deep", at: at)
                    return nil
                }
                if event.type == YAML_SEQUENCE_START_EVENT {
                    let anchor = optionalString(event.data.sequence_start.anchor)
                    stack.append(.sequence([], at, anchor: anchor))
                } else {
                    let anchor = optionalString(event.data.mapping_start.anchor)
                    stack.append(.mapping([], pendingKey: nil, at, anchor: anchor))
                }
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else {
                    log.error("YAML syntax error: a collection ends that never began", at: at)
                    return nil
                }
                switch frame {
                case .sequence(let items, let start, let anchor):
                    let node = YAMLNode(.sequence(items), at: start)
                    if let anchor { anchors[anchor] = node }
                    finished = node
                case .mapping(let entries, _, let start, let anchor):
                    checkDuplicateKeys(entries, log: &log)
                    let node = YAMLNode(.mapping(entries), at: start)
                    if let anchor { anchors[anchor] = node }
                    finished = node
                }
            default:
                break
            }

            guard let node = finished else { continue }
            total += node.size
            guard total <= Self.maxNodes else {
                log.error("the file expands to more than \(Self.maxNodes) values", at: at)
                return nil
            }
            guard let top = stack.popLast() else {
                root = node
                continue
            }
            switch top {
            case .sequence(var items, let start, let anchor):
                items.append(node)
                stack.append(.sequence(items, start, anchor: anchor))
            case .mapping(var entries, let pending, let start, let anchor):
                if let key = pending {
                    entries.append(YAMLNode.Entry(key: key, value: node))
                    stack.append(.mapping(entries, pendingKey: nil, start, anchor: anchor))
                } else {
                    if node.scalar == nil {
                        log.error(
                            "a key must be a plain name, not \(node.kindName)", at: node.location)
                    }
                    stack.append(.mapping(entries, pendingKey: node, start, anchor: anchor))
                }
            }
        }
    }

    private func checkDuplicateKeys(_ entries: [YAMLNode.Entry], log: inout DiagnosticLog) {
        var seen: [String: SourceLocation] = [:]
        for entry in entries {
            guard let key = entry.key.scalar else { continue }
            if let first = seen[key] {
                log.error(
                    "duplicate key '\(key)'; it is already set at line \(first.line)",
                    at: entry.key.location)
            } else {
                seen[key] = entry.key.location
            }
        }
    }

    private func reportSyntaxError(
        _ parser: yaml_parser_t, buffer: UnsafeMutableBufferPointer<UInt8>,
        log: inout DiagnosticLog
    ) {
        let problem = optionalString(parser.problem) ?? "unknown problem"
        if parser.error == YAML_READER_ERROR {
            let offset = min(Int(parser.problem_offset), buffer.count)
            let before = buffer.prefix(offset)
            let line = before.filter { $0 == UInt8(ascii: "\n") }.count + 1
            let column = offset - (before.lastIndex(of: UInt8(ascii: "\n")) ?? -1)
            log.error(
                "the file is not UTF-8 text (\(problem)); save it as UTF-8",
                at: SourceLocation(file: file, line: line, column: column))
            return
        }
        var at = location(parser.problem_mark)
        // At the end of the file there is no line to show: point at what was left open
        // (the quoted string, the bracket) instead.
        if problem.contains("end of stream"), optionalString(parser.context) != nil {
            at = location(parser.context_mark)
        }
        let line = log.sourceLine(at) ?? ""
        let indentation = line.prefix { $0 == " " || $0 == "\t" }
        if let tab = indentation.firstIndex(of: "\t") {
            let column = line.distance(from: line.startIndex, to: tab) + 1
            log.error(
                "tabs are not allowed for indentation; indent with spaces",
                at: SourceLocation(file: file, line: at.line, column: column))
            return
        }
        var message = "YAML syntax error: \(problem)"
        if let context = optionalString(parser.context) {
            message += " (\(context) at line \(Int(parser.context_mark.line) + 1))"
        }
        log.error(message, at: at)
    }

    private func string(_ pointer: UnsafeMutablePointer<UInt8>?, count: Int) -> String {
        guard let pointer else { return "" }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    private func optionalString(_ pointer: UnsafeMutablePointer<UInt8>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }

    private func optionalString(_ pointer: UnsafePointer<CChar>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }
}
