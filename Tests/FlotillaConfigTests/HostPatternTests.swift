import Foundation
import Testing

@testable import FlotillaConfig

@Suite struct HostPatternTests {
    static let cases: [(pattern: String, hosts: [String])] = [
        ("all", ["web-1", "web-2", "web-3", "web-4", "db-1", "db-2"]),
        ("db-2", ["db-2"]),
        ("web", ["web-1", "web-2", "web-3", "web-4"]),
        ("canary", ["web-4"]),
        ("web-*", ["web-1", "web-2", "web-3", "web-4"]),
        ("db-?", ["db-1", "db-2"]),
        ("web,!web-3", ["web-1", "web-2", "web-4"]),
        ("web,!canary", ["web-1", "web-2", "web-3"]),
        ("staging,&web", ["web-1"]),
        ("db-2,web-1", ["web-1", "db-2"]),
        ("!web", ["db-1", "db-2"]),
        ("web, db-1 , !web-2", ["web-1", "web-3", "web-4", "db-1"]),
        ("all,&staging,!db-*", ["web-1"]),
        ("nothing-*", []),
    ]

    @Test(arguments: cases)
    func aPatternSelectsTheDocumentedHostsInInventoryOrder(
        _ pattern: String, _ hosts: [String]
    ) throws {
        let inventory = try Fixture.inventory("inventory/patterns.yml")
        #expect(try inventory.select(pattern).map(\.name) == hosts)
    }

    @Test func anUnknownNameInAPatternIsAnErrorWithASuggestion() throws {
        let inventory = try Fixture.inventory("inventory/patterns.yml")
        #expect(throws: DiagnosticError.self) { try inventory.select("wbe,!db-1") }
        do {
            _ = try inventory.select("wbe,&stagign")
            Issue.record("an unknown name was accepted")
        } catch {
            #expect(
                error.rendered() == """
                    error: unknown host or group 'wbe' in pattern 'wbe,&stagign'; did you mean \
                    'web'?
                    error: unknown host or group 'stagign' in pattern 'wbe,&stagign'; did you mean \
                    'staging'?
                    """)
        }
    }

    @Test func anEmptyPatternIsAnError() throws {
        let inventory = try Fixture.inventory("inventory/patterns.yml")
        #expect(throws: DiagnosticError.self) { try inventory.select(" , ") }
        #expect(throws: DiagnosticError.self) { try inventory.select("web,!") }
    }
}

@Suite struct PatternLocationTests {
    @Test func aPlaybookPatternErrorShowsTheLineItWasWrittenOn() throws {
        let inventory = try Fixture.inventory("inventory/sample.yml")
        let playbook = try Playbook.load(path: Fixture.path("playbooks/broken/unknown-when.yml"))
        do {
            _ = try inventory.select(playbook.hosts, at: playbook.hostsLocation)
            Issue.record("the unknown group was accepted")
        } catch {
            #expect(
                Fixture.rendered(error) == """
                    playbooks/broken/unknown-when.yml:1:8: error: unknown host or group 'dbs' in \
                    pattern 'web,dbs'; did you mean 'db'?
                    hosts: web,dbs
                           ^
                    """)
        }
    }
}
