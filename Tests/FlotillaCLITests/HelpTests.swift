import Foundation
import Testing

@testable import flotilla

@Suite struct HelpTests {
    static let commands = Flotilla.commands.map { $0.spec.name }

    @Test(arguments: commands)
    func everyCommandsHelpHasAnAbstractUsageOptionsAndAnExample(command: String) async throws {
        let result = try await FlotillaProcess.run([command, "--help"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("OVERVIEW: "))
        #expect(result.stdout.contains("\nUSAGE: flotilla \(command)"))
        #expect(result.stdout.contains("\nOPTIONS:\n"))
        #expect(result.stdout.contains("\nEXAMPLES:\n"))
        #expect(result.stdout.contains("    $ flotilla "))
        #expect(result.stderr.isEmpty)
        // Help lines fit a terminal.
        #expect(result.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 })
    }

    /// docs/commands.md cannot drift from --help: each help text is in it, verbatim.
    @Test(arguments: [[]] + commands.map { [$0] })
    func theCommandReferenceHoldsEachHelpTextVerbatim(command: [String]) async throws {
        let help = try await FlotillaProcess.run(command + ["--help"]).stdout
        let reference = try String(
            contentsOf: FlotillaProcess.packageRoot.appendingPathComponent("docs/commands.md"),
            encoding: .utf8)
        #expect(
            reference.contains("```text\n" + help + "```\n"),
            "docs/commands.md is out of date: regenerate it with `flotilla help --markdown`")
    }

    @Test(arguments: [
        (["run"], "error: missing PLAYBOOK\nusage: flotilla run PLAYBOOK"),
        (["run", "p.yml", "--forks", "many"], "error: '--forks' takes a positive number"),
        (["exec", "-i", "x.yml"], "error: missing COMMAND\nusage: flotilla exec"),
        (["run", "p.yml", "-i", "x.yml", "-v", "-q"], "error: '-v' and '-q' cannot"),
        (["run", "p.yml", "--output", "html"], "error: '--output' must be one of auto,"),
        (["sandbox", "up", "many"], "error: N must be a number from 1 to 100 (got 'many')"),
        (["trust", "--fingerprint", "abc"], "error: '--fingerprint' takes SHA256:"),
        (["deploy"], "error: unknown command 'deploy'\nusage: flotilla COMMAND"),
        (["validate", "a.yml", "b.yml"], "error: unexpected argument 'b.yml'\nusage: "),
        (["ping", "web-1"], "error: unexpected argument 'web-1'\nusage: flotilla ping"),
    ])
    func usageErrorsPrintTheErrorAndTheUsageAndExit2(
        arguments: [String], expected: String
    ) async throws {
        let result = try await FlotillaProcess.run(
            arguments, environment: ["FLOTILLA_INVENTORY": "x"])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix(expected))
        #expect(result.stderr.contains("See 'flotilla "))
        #expect(result.stdout.isEmpty)
    }

    @Test func withoutAnyInventoryTheErrorSaysWhereOneCanComeFrom() async throws {
        let result = try await FlotillaProcess.run(["hosts"])
        #expect(result.status == 2)
        #expect(result.stderr ==
            "error: no inventory: pass -i FILE, set FLOTILLA_INVENTORY, or create "
                + "inventory.yml in the current folder\n")
    }

    @Test func versionNamesFlotillaAndLibssh2() async throws {
        let result = try await FlotillaProcess.run(["version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("flotilla 0.1.0\nlibssh2 "))
    }
}
