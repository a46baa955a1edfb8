// Every YAML example a user can copy from the README or docs/ loads: an inventory example as
// an inventory, a playbook example as a playbook, steps and playbook keys inside the
// smallest playbook around them, anything else (a GitHub Actions job) as YAML. A file an
// example names but the docs do not ship (a key, a script) is the only complaint allowed,
// so examples cannot rot.

import Foundation
import Testing

@testable import FlotillaConfig

@Suite struct DocumentationExampleTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct Example: CustomTestStringConvertible, Sendable {
        var file: String
        var line: Int
        var text: String
        var testDescription: String { "\(file):\(line)" }
    }

    /// The ```yaml blocks of the README and every page of docs/.
    static let examples: [Example] = {
        let docs = (try? FileManager.default.contentsOfDirectory(
            atPath: packageRoot.appendingPathComponent("docs").path)) ?? []
        let files = ["README.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/\($0)" }
        var found: [Example] = []
        for file in files {
            let url = packageRoot.appendingPathComponent(file)
            guard let text = try? String(contentsOf: url, encoding: .utf8) else { continue }
            var block: [String]?
            var start = 0
            for (index, line) in text.components(separatedBy: "\n").enumerated() {
                if block == nil, line.trimmingCharacters(in: .whitespaces) == "```yaml" {
                    block = []
                    start = index + 2
                } else if block != nil, line.trimmingCharacters(in: .whitespaces) == "```" {
                    found.append(Example(file: file, line: start, text: dedented(block!)))
                    block = nil
                } else if block != nil {
                    block!.append(line)
                }
            }
        }
        return found
    }()

    /// A block inside a list item is indented as a whole; the file it shows is not.
    static func dedented(_ lines: [String]) -> String {
        let indent = lines.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { $0.prefix { $0 == " " }.count }.min() ?? 0
        return lines.map { String($0.dropFirst(min(indent, $0.count))) }.joined(separator: "\n")
    }

    /// What a block shows: a whole file, steps (a list), the playbook-level keys `secrets`,
    /// `handlers` or `vars`, or something else (a GitHub Actions job), only parsed.
    enum Kind { case inventory, playbook, steps, playbookKeys, other }

    static func kind(of text: String) -> Kind {
        let topKeys = text.components(separatedBy: "\n")
            .filter { !$0.hasPrefix(" ") && !$0.hasPrefix("#") && $0.contains(":") }
            .map { String($0.prefix { $0 != ":" }) }
        if topKeys.contains("stages") { return .playbook }
        if topKeys.contains("defaults") || topKeys.contains("groups")
            || (topKeys.contains("hosts") && !topKeys.contains("name"))
        {
            return .inventory
        }
        if text.hasPrefix("- ") { return .steps }
        if !topKeys.isEmpty, Set(topKeys).isSubset(of: ["secrets", "handlers", "vars"]) {
            return .playbookKeys
        }
        return .other
    }

    /// A fragment inside the smallest playbook around it, with every secret it names
    /// declared, so the loader checks it as a user's file would be checked.
    static func playbook(around text: String, kind: Kind) -> String {
        let names = Set(text.matches(of: /secrets\.([A-Za-z_][A-Za-z0-9_]*)/).map {
            String($0.output.1)
        })
        var secrets = names.sorted().map { "  \($0): env:FLOTILLA_DOC_\($0.uppercased())" }
        switch kind {
        case .steps:
            let steps = text.components(separatedBy: "\n").map { "      " + $0 }
            return "hosts: all\n" + (secrets.isEmpty ? "" : "secrets:\n")
                + secrets.joined(separator: "\n") + (secrets.isEmpty ? "" : "\n")
                + "stages:\n  - name: example\n    steps:\n" + steps.joined(separator: "\n")
        default:
            if text.contains("secrets:") { secrets = [] }
            return "hosts: all\n" + (secrets.isEmpty ? "" : "secrets:\n")
                + secrets.joined(separator: "\n") + (secrets.isEmpty ? "" : "\n") + text
                + "\nstages:\n  - name: example\n    steps:\n      - run: \"true\"\n"
        }
    }

    @Test func theDocsHaveExamplesOfBothFiles() {
        let kinds = Self.examples.map { Self.kind(of: $0.text) }
        #expect(kinds.contains { $0 == .inventory })
        #expect(kinds.contains { $0 == .playbook })
        #expect(kinds.contains { $0 == .steps })
        #expect(kinds.contains { $0 == .playbookKeys })
    }

    @Test(arguments: examples)
    func everyExampleLoads(_ example: Example) throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("flotilla-doc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("example.yml").path
        try example.text.write(toFile: path, atomically: true, encoding: .utf8)

        var problems: [Diagnostic] = []
        let kind = Self.kind(of: example.text)
        if kind == .steps || kind == .playbookKeys {
            try Self.playbook(around: example.text, kind: kind)
                .write(toFile: path, atomically: true, encoding: .utf8)
        }
        do {
            switch kind {
            case .playbook: _ = try Playbook.load(path: path)
            case .inventory: _ = try Inventory.load(files: [path], environment: [:], sshConfig: nil)
            case .steps, .playbookKeys:
                _ = try Playbook.load(path: path)
            case .other:
                var log = DiagnosticLog()
                let node = YAMLParser.parse(Array(example.text.utf8), file: path, log: &log)
                #expect(node != nil && !log.hasErrors, "\(example.file):\(example.line)")
                return
            }
        } catch {
            problems = error.diagnostics
        }
        let real = problems.filter {
            $0.severity == .error && !$0.message.contains("does not exist")
        }
        #expect(real.isEmpty, "\(example.file):\(example.line): \(real.map(\.message))")
    }
}
