// The GitHub Actions workflow in docs/github-actions.md is what a user copies into their
// repository: it must parse, keep the promises the page makes about it, give the deploy
// every secret the playbook reads, and call Flotilla with arguments that Flotilla accepts.

import Foundation
import Testing

@testable import FlotillaConfig
@testable import flotilla

@Suite struct WorkflowExampleTests {
    static let page = "docs/github-actions.md"

    /// The ```yaml block of the page that is a workflow (it has `jobs`).
    static func workflowText() throws -> String {
        let url = FlotillaProcess.packageRoot.appendingPathComponent(page)
        let text = try String(contentsOf: url, encoding: .utf8)
        let blocks = text.components(separatedBy: "```yaml\n").dropFirst()
            .compactMap { $0.components(separatedBy: "\n```").first }
        return try #require(blocks.first { $0.contains("\njobs:\n") })
    }

    static func workflow() throws -> YAMLNode {
        var log = DiagnosticLog()
        let node = YAMLParser.parse(
            Array(try workflowText().utf8), file: page, log: &log)
        #expect(!log.hasErrors, "\(log.diagnostics.map(\.message))")
        return try #require(node)
    }

    @Test func theWorkflowDeploysOnPushToMainAfterTheTestsOneAtATime() throws {
        let workflow = try Self.workflow()
        #expect(workflow["on"]?["push"]?["branches"]?.strings == ["main"])
        let deploy = try #require(workflow["jobs"]?["deploy"])
        #expect(deploy["needs"]?.strings == ["backend-test", "frontend-build"])
        for job in deploy["needs"]?.strings ?? [] {
            #expect(workflow["jobs"]?[job] != nil, "deploy needs \(job), which is not a job")
        }
        #expect(deploy["concurrency"]?["group"]?.scalar?.isEmpty == false)
        #expect(deploy["concurrency"]?["cancel-in-progress"]?.scalar == "false")

        let steps = deploy["steps"]?.items ?? []
        let artifact = try #require(steps.first {
            $0["uses"]?.scalar?.hasPrefix("actions/upload-artifact@") == true
        })
        #expect(artifact["if"]?.scalar == "always()")
        #expect(artifact["with"]?["path"]?.scalar == ".flotilla/runs/")
        // Host keys are verified: nothing in the workflow turns that off or writes keys.
        let text = try Self.workflowText()
        for forbidden in ["StrictHostKeyChecking", "ssh-keyscan", "known_hosts"] {
            #expect(!text.contains(forbidden), "the workflow mentions \(forbidden)")
        }
    }

    @Test func theDeployStepGivesEverySecretThePlaybookAndInventoryRead() throws {
        let deploy = try #require(try Self.workflow()["jobs"]?["deploy"])
        let runStep = try #require((deploy["steps"]?.items ?? []).first {
            $0["run"]?.scalar?.contains("flotilla run ") == true
        })
        let given = Set((runStep["env"]?.entries ?? []).compactMap(\.key.scalar))
        let command = try #require(Self.flotillaCommands(in: runStep).first)
        let parsed = try ParsedArguments(Array(command.dropFirst()), spec: .run)
        var files = parsed.positionals + parsed.all("inventory")
        #expect(files.count == 2)
        files = files.map { FlotillaProcess.packageRoot.appendingPathComponent($0).path }

        var read: Set<String> = []
        for file in files {
            let text = try String(contentsOfFile: file, encoding: .utf8)
            for line in text.split(separator: "\n") where !line.trimmingCharacters(
                in: .whitespaces).hasPrefix("#")
            {
                for match in line.matches(of: /env:([A-Z_][A-Z0-9_]*)/) {
                    read.insert(String(match.1))
                }
            }
        }
        #expect(read.contains("PROD_SSH_KEY"))
        #expect(read.contains("DJANGO_SECRET_KEY"))
        #expect(read.subtracting(given).isEmpty, "not given: \(read.subtracting(given))")
        for name in given {
            #expect(runStep["env"]?[name]?.scalar == "${{ secrets.\(name) }}")
        }
    }

    @Test func everyFlotillaCommandInTheWorkflowParsesAndItsFilesValidate() async throws {
        let steps = try Self.workflow()["jobs"]?["deploy"]?["steps"]?.items ?? []
        let commands = steps.flatMap(Self.flotillaCommands)
        #expect(commands.map { $0.first } == ["validate", "run"])
        for command in commands {
            let spec = try #require(command.first == "run" ? CommandSpec.run
                : command.first == "validate" ? CommandSpec.validate : nil)
            let parsed = try ParsedArguments(Array(command.dropFirst()), spec: spec)
            // What `run` would load is what `validate` checks, without contacting a host.
            let result = try await FlotillaProcess.run(
                ["validate"] + parsed.positionals
                    + parsed.all("inventory").flatMap { ["-i", $0] },
                in: FlotillaProcess.packageRoot)
            #expect(result.status == 0, "\(command): \(result.stdout)\(result.stderr)")
            #expect(result.stdout.hasPrefix("ok: 1 host"), "\(result.stdout)")
        }
    }

    /// The arguments of each `flotilla` invocation in a step's `run`, with GitHub's
    /// expressions replaced by values of their shape.
    static func flotillaCommands(in step: YAMLNode) -> [[String]] {
        guard let script = step["run"]?.scalar else { return [] }
        let expanded = script.replacingOccurrences(
            of: "${{ github.sha }}", with: String(repeating: "0123456789", count: 4))
        return expanded.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ").map(String.init)
            guard let index = words.firstIndex(where: { $0.hasSuffix("/flotilla") })
            else { return nil }
            return Array(words[(index + 1)...])
        }
    }
}

extension YAMLNode {
    subscript(key: String) -> YAMLNode? {
        entries?.first { $0.key.scalar == key }?.value
    }

    var entries: [Entry]? {
        if case .mapping(let entries) = content { return entries }
        return nil
    }

    var items: [YAMLNode]? {
        if case .sequence(let items) = content { return items }
        return nil
    }

    var strings: [String]? { items?.compactMap(\.scalar) }
}
