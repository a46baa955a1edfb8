// Every YAML example a user can copy from the README or docs/ loads: an inventory example as
// an inventory, a playbook example as a playbook. A file an example names but the docs do
// not ship (a key, a script) is the only complaint allowed, so examples cannot rot.

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
                    found.append(Example(file: file, line: start, text: block!.joined(separator: "\n")))
                    block = nil
                } else if block != nil {
                    block!.append(line)
                }
            }
        }
        return found
    }()

    enum Kind { case inventory, playbook, fragment }

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
        return .fragment
    }

    @Test func theDocsHaveExamplesOfBothFiles() {
        let kinds = Self.examples.map { Self.kind(of: $0.text) }
        #expect(kinds.contains { $0 == .inventory })
        #expect(kinds.contains { $0 == .playbook })
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
        do {
            switch Self.kind(of: example.text) {
            case .playbook: _ = try Playbook.load(path: path)
            case .inventory: _ = try Inventory.load(files: [path], environment: [:], sshConfig: nil)
            case .fragment: return
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
