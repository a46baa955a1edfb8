// Reading one step: its single kind, its options, the templates in its strings, and the
// local files it names.

import FlotillaSupport
import FoundationEssentials

extension PlaybookLoader {
    static let kindKeys = ["run", "script", "upload", "template", "secret", "fetch"]
    static let optionKeys = [
        "name", "to", "content", "args", "become", "cwd", "env", "timeout", "retries", "delay",
        "creates", "unless", "when", "ignore_errors", "notify", "owner", "group", "mode",
        "parents", "line_endings",
    ]
    static let fileKeys = ["owner", "group", "mode", "parents"]

    mutating func readStep(_ node: YAMLNode, what: String) -> Step? {
        guard let fields = log.fields(node, known: Self.kindKeys + Self.optionKeys, what: what)
        else { return nil }
        let kinds = Self.kindKeys.filter(fields.has)
        if kinds.count > 1 {
            log.error(
                "a step does one thing, but this one has both '\(kinds[0])' and '\(kinds[1])'; "
                    + "split it into two steps", at: fields.keyLocation(kinds[1]))
            return nil
        }
        guard let kindKey = kinds.first ?? (fields.has("content") ? "secret" : nil) else {
            log.error(
                "this step does nothing; give it one of run, script, upload, template, secret "
                    + "or fetch", at: node.location)
            return nil
        }

        var locations: [String: SourceLocation] = [:]
        for entry in fields.entries { locations[entry.name] = entry.value.location }
        checkOptions(fields, kind: kindKey)

        guard let kind = readKind(kindKey, fields) else { return nil }
        var step = Step(kind: kind, location: node.location)
        step.fieldLocations = locations
        readOptions(fields, into: &step)
        return step
    }

    /// Options that make no sense for the step's kind are errors, not silently ignored.
    private mutating func checkOptions(_ fields: Fields, kind: String) {
        let writesFile = ["upload", "template", "secret"].contains(kind)
        func reject(_ key: String, _ reason: String) {
            if let at = fields.keyLocation(key) { log.error(reason, at: at) }
        }
        if kind != "secret" || fields.has("secret") {
            let message =
                fields.has("secret")
                ? "a secret step takes 'secret: NAME' or 'content:', not both"
                : "'content' is only for secret steps (content: with to:, and no other kind)"
            reject("content", message)
        }
        if !writesFile && kind != "fetch" {
            reject("to", "'to' is not used by a \(kind) step")
        }
        if kind != "script" {
            reject("args", "'args' is only for script steps")
            reject("line_endings", "'line_endings' is only for script steps")
        }
        if !writesFile {
            for key in Self.fileKeys {
                reject(
                    key, "'\(key)' is only for steps that write a file (upload, template, secret)")
            }
        }
    }

    private mutating func readKind(_ key: String, _ fields: Fields) -> Step.Kind? {
        let needsTo = ["upload", "template", "secret"].contains(key)
        var to: String?
        if let node = fields["to"] {
            to = templated(node, "to")
        } else if needsTo {
            let article = key == "upload" ? "an" : "a"
            log.error(
                "\(article) \(key) step needs 'to:', the path to write on the host",
                at: fields.location)
            return nil
        }

        switch key {
        case "run":
            guard let node = fields["run"], let command = templated(node, "run") else { return nil }
            if command.trimmingWhitespace().isEmpty {
                log.error("'run' is empty; give the command to run", at: node.location)
                return nil
            }
            return .run(command)
        case "script":
            guard let node = fields["script"], let file = log.string(node, "script") else {
                return nil
            }
            let args = fields["args"].flatMap { templated($0, "args") }
            let normalize = readLineEndings(fields) == .normalize
            checkScript(file, normalize: normalize, at: node.location)
            return .script(path: file, args: args)
        case "upload":
            guard let node = fields["upload"], let file = log.string(node, "upload"), let to
            else { return nil }
            checkLocalFile(file, key: "upload", directoryAllowed: true, at: node.location)
            return .upload(from: file, to: to)
        case "template":
            guard let node = fields["template"], let file = log.string(node, "template"), let to
            else { return nil }
            if checkLocalFile(file, key: "template", directoryAllowed: false, at: node.location) {
                checkTemplateFile(file)
            }
            return .template(from: file, to: to)
        case "secret":
            guard let to else { return nil }
            if let node = fields["secret"] {
                guard let name = log.string(node, "secret") else { return nil }
                if !secretNames.contains(name) {
                    log.error(
                        "secret '\(name)' is not declared under 'secrets'"
                            + NearestName.hint(name, in: secretNames), at: node.location)
                }
                return .secret(name: name, content: nil, to: to)
            }
            guard let node = fields["content"],
                let content = templated(node, "content", confidential: true)
            else { return nil }
            return .secret(name: nil, content: content, to: to)
        default:
            guard let node = fields["fetch"], let from = templated(node, "fetch") else {
                return nil
            }
            return .fetch(from: from, to: to)
        }
    }

    private mutating func readLineEndings(_ fields: Fields) -> LineEndings {
        guard let node = fields["line_endings"], let text = log.string(node, "line_endings")
        else { return .check }
        guard let value = LineEndings(rawValue: text) else {
            log.error("'line_endings' must be check or normalize, not '\(text)'", at: node.location)
            return .check
        }
        return value
    }

    private mutating func readOptions(_ fields: Fields, into step: inout Step) {
        if let node = fields["name"] { step.name = log.string(node, "name") }
        if let node = fields["become"] { step.become = log.bool(node, "become") ?? false }
        if let node = fields["cwd"] { step.cwd = templated(node, "cwd") }
        if let node = fields["env"], let env = log.stringMap(node, "env") {
            for entry in log.namedEntries(node, what: "'env'") {
                step.fieldLocations["env.\(entry.name)"] = entry.value.location
                if let text = entry.value.scalar {
                    checkTemplate(text, at: entry.value.location, confidential: true)
                }
            }
            step.env = env
        }
        if let node = fields["timeout"] { step.timeout = log.duration(node, "timeout") }
        if let node = fields["retries"] {
            step.retries = log.int(node, "retries", in: 0...1000) ?? 0
        }
        if let node = fields["delay"] { step.delay = log.duration(node, "delay") ?? .seconds(1) }
        if let node = fields["creates"] { step.creates = templated(node, "creates") }
        if let node = fields["unless"] { step.unless = templated(node, "unless") }
        if let node = fields["when"], let pattern = log.string(node, "when") {
            if HostPattern(pattern) == nil {
                log.error(
                    "'when' must be a host pattern, like canary or web,!web-3", at: node.location)
            }
            step.when = pattern
        }
        if let node = fields["ignore_errors"] {
            step.ignoreErrors = log.bool(node, "ignore_errors") ?? false
        }
        if let node = fields["notify"], let names = log.stringItems(node, "notify") {
            for (name, location) in names where !handlerNames.contains(name) {
                log.error(
                    "no handler is named '\(name)'" + NearestName.hint(name, in: handlerNames)
                        + (handlerNames.isEmpty ? "; define it under 'handlers'" : ""),
                    at: location)
            }
            step.notify = names.map(\.text)
        }
        if let node = fields["owner"] { step.owner = templated(node, "owner") }
        if let node = fields["group"] { step.group = templated(node, "group") }
        if let node = fields["mode"] { step.mode = log.mode(node, "mode") }
        if let node = fields["parents"] { step.parents = log.bool(node, "parents") ?? false }
        step.lineEndings = readLineEndings(fields)
    }

    /// A string that may hold `{{ }}`: its syntax is checked now, its variables per host.
    private mutating func templated(
        _ node: YAMLNode, _ key: String, confidential: Bool = false
    ) -> String? {
        guard let text = log.string(node, key) else { return nil }
        checkTemplate(text, at: node.location, confidential: confidential)
        return text
    }

    private mutating func checkTemplate(
        _ text: String, at location: SourceLocation, confidential: Bool
    ) {
        switch Template.parse(text) {
        case .failure(let error):
            log.error(error.message, at: location)
        case .success(let template):
            for expression in template.expressions {
                guard let path = expression.path, path.first == "secrets", path.count == 2 else {
                    continue
                }
                if !confidential {
                    log.error(
                        "secret '\(path[1])' would appear on a remote command line; pass it "
                            + "through env:", at: log.locate(expression.raw, near: location))
                } else if !secretNames.contains(path[1]) {
                    log.error(
                        "secret '\(path[1])' is not declared under 'secrets'"
                            + NearestName.hint(path[1], in: secretNames),
                        at: log.locate(expression.raw, near: location))
                }
            }
        }
    }

    // MARK: Local files

    func localPath(_ file: String) -> String {
        LocalPath.join(folder, file)
    }

    @discardableResult
    private mutating func checkLocalFile(
        _ file: String, key: String, directoryAllowed: Bool, at location: SourceLocation
    ) -> Bool {
        var isDirectory = false
        let path = localPath(file)
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            log.error(
                "'\(key)': \(file) does not exist (paths are relative to the playbook's folder; "
                    + "looked for \(path))", at: location)
            return false
        }
        if isDirectory && !directoryAllowed {
            log.error("'\(key)': \(file) is a folder; a \(key) step needs a file", at: location)
            return false
        }
        return true
    }

    /// A script with CR line endings fails on the host with baffling errors (R15): refuse it
    /// before anything is uploaded, unless the step asks to convert it.
    private mutating func checkScript(_ file: String, normalize: Bool, at location: SourceLocation)
    {
        guard checkLocalFile(file, key: "script", directoryAllowed: false, at: location),
            !normalize, let data = FileManager.default.contents(atPath: localPath(file)),
            let index = data.firstIndex(of: UInt8(ascii: "\r"))
        else { return }
        let line = data[..<index].filter { $0 == UInt8(ascii: "\n") }.count + 1
        log.error(
            "\(file) has CRLF line endings (first at line \(line)); convert it to LF or set "
                + "line_endings: normalize", at: location)
    }

    /// Template syntax errors point into the template file itself.
    private mutating func checkTemplateFile(_ file: String) {
        let path = localPath(file)
        guard let data = FileManager.default.contents(atPath: path) else { return }
        let text = String(decoding: data, as: UTF8.self)
        if case .failure(let error) = Template.parse(text) {
            log.addSource(file: path, text: text)
            log.error(
                error.message,
                at: SourceLocation(file: path, line: error.line, column: error.column))
        }
    }
}
