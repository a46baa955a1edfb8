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
            #expect(error.rendered() == """
                error: unknown host or group 'wbe' in pattern 'wbe,&stagign'; did you mean 'web'?
                error: unknown host or group 'stagign' in pattern 'wbe,&stagign'; did you mean 'staging'?
                """)
        }
    }

    @Test func anEmptyPatternIsAnError() throws {
        let inventory = try Fixture.inventory("inventory/patterns.yml")
        #expect(throws: DiagnosticError.self) { try inventory.select(" , ") }
        #expect(throws: DiagnosticError.self) { try inventory.select("web,!") }
    }
}

@Suite struct ShardTests {
    static func hosts(_ count: Int) -> [InventoryHost] {
        (1...count).map { InventoryHost(name: "host-\($0)", address: "10.0.0.\($0 % 250)", user: "u") }
    }

    @Test(arguments: ["1/1", "2/3", "10/10"])
    func aValidShardParses(_ text: String) {
        #expect(Shard.parse(text) != nil)
    }

    @Test(arguments: ["0/3", "4/3", "3", "a/b", "1/0", "-1/2", "1/2/3", ""])
    func anInvalidShardDoesNotParse(_ text: String) {
        #expect(Shard.parse(text) == nil)
    }

    @Test(arguments: [1, 2, 3, 7])
    func everyHostFallsInExactlyOneShard(_ count: Int) {
        let hosts = Self.hosts(200)
        let shards = (1...count).map { Shard(index: $0, count: count).apply(to: hosts) }
        let names = shards.flatMap { $0.map(\.name) }
        #expect(names.count == hosts.count)
        #expect(Set(names) == Set(hosts.map(\.name)))
        if count > 1 { #expect(shards.allSatisfy { !$0.isEmpty && $0.count < hosts.count }) }
    }

    @Test func aHostKeepsItsShardWhenTheInventoryIsReordered() {
        let hosts = Self.hosts(100)
        let reordered = hosts.reversed() + []
        for index in 1...4 {
            let shard = Shard(index: index, count: 4)
            #expect(Set(shard.apply(to: hosts).map(\.name))
                == Set(shard.apply(to: reordered).map(\.name)))
        }
    }

    @Test func theShardOfAHostIsFixedByItsNameAlone() {
        // FNV-1a 64 reference values; a change here would move hosts between CI jobs.
        #expect(Shard.hash("") == 0xcbf2_9ce4_8422_2325)
        #expect(Shard.hash("a") == 0xaf63_dc4c_8601_ec8c)
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
            #expect(Fixture.rendered(error) == """
                playbooks/broken/unknown-when.yml:1:8: error: unknown host or group 'dbs' in \
                pattern 'web,dbs'; did you mean 'db'?
                hosts: web,dbs
                       ^
                """)
        }
    }
}
