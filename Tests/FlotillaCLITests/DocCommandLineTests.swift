// Every `flotilla …` command line a user can copy from the README or docs/ names a real
// command and parses with its options, so a renamed option cannot leave a doc behind.

import Foundation
import Testing

@testable import flotilla

@Suite struct DocCommandLineTests {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    struct CommandLine: CustomTestStringConvertible, Sendable {
        var file: String
        var line: Int
        var words: [String]
        var testDescription: String { "\(file):\(line) flotilla \(words.joined(separator: " "))" }
    }

    /// The `flotilla` invocations in the docs' code blocks.
    static let commandLines: [CommandLine] = {
        let docs = (try? FileManager.default.contentsOfDirectory(
            atPath: packageRoot.appendingPathComponent("docs").path)) ?? []
        let files = ["README.md"] + docs.filter { $0.hasSuffix(".md") }.sorted().map { "docs/\($0)" }
        var found: [CommandLine] = []
        for file in files {
            guard let text = try? String(
                contentsOf: packageRoot.appendingPathComponent(file), encoding: .utf8)
            else { continue }
            // Shell blocks are commands throughout; other blocks (help texts) only in their
            // `$ ` example lines.
            var block: String?
            let lines = text.components(separatedBy: "\n")
            var pending = ""
            for (index, raw) in lines.enumerated() {
                let line = raw.trimmingCharacters(in: .whitespaces)
                if line.hasPrefix("```") {
                    block = block == nil ? String(line.dropFirst(3)) : nil
                    continue
                }
                guard let kind = block else { continue }
                let shell = ["sh", "bash", "console"].contains(kind)
                guard shell || line.hasPrefix("$ ") || !pending.isEmpty else { continue }
                pending += line.hasPrefix("$ ") ? String(line.dropFirst(2)) : line
                if pending.hasSuffix("\\") {
                    pending.removeLast()
                    pending += " "
                    continue
                }
                // A help text wraps a long example onto lines indented further.
                if !shell, index + 1 < lines.count,
                    indent(of: lines[index + 1]) > indent(of: raw),
                    !lines[index + 1].trimmingCharacters(in: .whitespaces).hasPrefix("$ ")
                {
                    pending += " "
                    continue
                }
                for words in invocations(in: pending) {
                    found.append(CommandLine(file: file, line: index + 1, words: words))
                }
                pending = ""
            }
        }
        return found
    }()

    static func indent(of line: String) -> Int {
        line.prefix { $0 == " " }.count
    }

    /// The words after each `flotilla` (or `…/flotilla`) that starts a command in `line`.
    static func invocations(in line: String) -> [[String]] {
        var result: [[String]] = []
        var current: [String]?
        for word in words(of: line) {
            if ["&&", "||", "|", ";", "#"].contains(word) || word.hasPrefix(">") {
                if let found = current { result.append(found) }
                current = nil
                if word == "#" { break }
                continue
            }
            if current == nil, word == "flotilla" || word.hasSuffix("/flotilla") {
                current = []
            } else if current != nil {
                current!.append(word)
            }
        }
        if let found = current { result.append(found) }
        return result
    }

    /// Shell words: split on blanks, quotes kept together and removed.
    static func words(of line: String) -> [String] {
        var words: [String] = []
        var word = ""
        var quote: Character?
        var started = false
        for character in line {
            if let open = quote {
                if character == open { quote = nil } else { word.append(character) }
            } else if character == "'" || character == "\"" {
                quote = character
                started = true
            } else if character == " " || character == "\t" {
                if started || !word.isEmpty { words.append(word) }
                word = ""
                started = false
            } else {
                word.append(character)
            }
        }
        if started || !word.isEmpty { words.append(word) }
        return words
    }

    @Test func theDocsShowCommandLinesOfTheMainCommands() {
        let names = Set(Self.commandLines.compactMap(\.words.first))
        #expect(names.isSuperset(of: ["run", "validate", "trust", "sandbox"]), "\(names)")
    }

    @Test(arguments: commandLines)
    func everyDocumentedCommandLineParses(_ commandLine: CommandLine) throws {
        var words = commandLine.words
        guard let name = words.first, !name.hasPrefix("-"), name != "help" else { return }
        words.removeFirst()
        let command = try #require(
            Flotilla.command(named: name), "no command '\(name)' at \(commandLine)")
        #expect(throws: Never.self, "\(commandLine)") {
            _ = try ParsedArguments(words, spec: command.spec)
        }
    }
}
