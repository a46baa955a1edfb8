import Foundation
import Testing

@testable import FlotillaConfig

/// Hostile input ends in diagnostics, quickly, never in a crash.
@Suite struct RobustnessTests {
    func diagnostics(for text: String) throws -> String {
        let folder = Fixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/input.yml"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        do {
            _ = try Inventory.load(files: [file], environment: Fixture.environment, sshConfig: nil)
            return ""
        } catch {
            return error.rendered().replacingOccurrences(of: folder + "/", with: "")
        }
    }

    @Test func deeplyNestedValuesAreRefusedWithoutExhaustingTheStack() throws {
        let text = "hosts: " + String(repeating: "[", count: 100_000)
        #expect(
            try diagnostics(for: text).hasPrefix(
                "input.yml:1:71: error: values nested more than 64 levels deep"))
    }

    @Test func aliasesThatExpandExponentiallyAreRefused() throws {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...9 {
            let previous = "*a\(level - 1)"
            text +=
                "a\(level): &a\(level) ["
                + Array(repeating: previous, count: 10)
                .joined(separator: ", ") + "]\n"
        }
        let started = ContinuousClock.now
        let output = try diagnostics(for: text)
        #expect(output.contains("error: the file expands to more than 200000 values"))
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func anAliasToAnUnknownAnchorIsAnError() throws {
        #expect(
            try diagnostics(for: "defaults: *nowhere\n")
                == "input.yml:1:11: error: alias '*nowhere' names no anchor defined before it\n"
                + "defaults: *nowhere\n          ^")
    }

    @Test func aQuoteLeftOpenToTheEndIsShownWhereItOpens() throws {
        #expect(
            try diagnostics(for: "defaults:\n  user: \"deploy\n")
                == "input.yml:2:9: error: YAML syntax error: found unexpected end of stream"
                + " (while scanning a quoted scalar at line 2)\n  user: \"deploy\n        ^")
    }

    @Test func anEmptyFileIsAnEmptyInventory() throws {
        #expect(try diagnostics(for: "") == "")
    }

    @Test func aKeyThatIsNotAPlainNameIsAnError() throws {
        #expect(
            try diagnostics(for: "? [a, b]\n: c\n").contains(
                "error: a key must be a plain name, not a list"))
    }
}

@Suite struct AliasTests {
    @Test func anAliasRepeatsAWholeValueAndAMergeKeyIsExplained() throws {
        let folder = Fixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/inv.yml"
        try """
            hosts:
              web-1: { vars: &shared { tier: web } }
              web-2: { vars: *shared }
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let inventory = try Inventory.load(
            files: [file], environment: Fixture.environment, sshConfig: nil)
        #expect(inventory.host(named: "web-2")?.vars["tier"] == .string("web"))

        try "hosts:\n  web-1: &a { port: 2222 }\n  web-2: { <<: *a }\n"
            .write(toFile: file, atomically: true, encoding: .utf8)
        do {
            _ = try Inventory.load(files: [file], environment: Fixture.environment, sshConfig: nil)
            Issue.record("a merge key was accepted")
        } catch {
            #expect(error.rendered().hasPrefix(
                "\(file):3:12: error: YAML merge keys (<<) are not supported"))
        }
    }
}
