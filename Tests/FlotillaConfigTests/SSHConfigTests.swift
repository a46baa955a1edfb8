import Foundation
import Testing
@testable import FlotillaConfig

@Suite struct SSHConfigTests {
    /// The fixture names `KEYS/web_key`; it is rewritten to the fixture's real folder.
    func inventory() throws -> Inventory {
        let folder = Fixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = try String(contentsOfFile: Fixture.path("sshconfig/config"), encoding: .utf8)
            .replacingOccurrences(of: "KEYS", with: Fixture.path("sshconfig/keys"))
        try config.write(toFile: folder + "/config", atomically: true, encoding: .utf8)
        return try Inventory.load(
            files: [Fixture.path("sshconfig/inventory.yml")], environment: Fixture.environment,
            sshConfig: folder + "/config")
    }

    @Test func theFirstMatchingValueFillsWhatTheInventoryLeavesOpen() throws {
        let inventory = try inventory()
        let web1 = try #require(inventory.host(named: "web-1"))
        #expect(web1.address == "web-1.internal.example")
        #expect(web1.user == "alice")
        #expect(web1.port == 2201)
        #expect(web1.identities == [.file(Fixture.path("sshconfig/keys/web_key"))])

        let web2 = try #require(inventory.host(named: "web-2"))
        #expect(web2.address == "192.0.2.2")
        #expect(web2.user == "carol")
    }

    @Test func aProxyJumpNamingAnInventoryHostBecomesTheJump() throws {
        let inventory = try inventory()
        let db1 = try #require(inventory.host(named: "db-1"))
        #expect(db1.jump == "bastion")
        #expect(db1.port == 5022)
        #expect(db1.user == "fallback")
        let db9 = try #require(inventory.host(named: "db-9"))
        #expect(db9.jump == nil)
        #expect(db9.port == 22)
    }

    @Test func aProxyJumpOutsideTheInventoryIsAnError() throws {
        let folder = Fixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "Host app\n  ProxyJump gate.example.org\n"
            .write(toFile: folder + "/config", atomically: true, encoding: .utf8)
        try "hosts:\n  app: {}\n".write(toFile: folder + "/inv.yml", atomically: true, encoding: .utf8)
        do {
            _ = try Inventory.load(
                files: [folder + "/inv.yml"], environment: Fixture.environment,
                sshConfig: folder + "/config")
            Issue.record("the unknown jump host was accepted")
        } catch {
            #expect(error.rendered() == """
                \(folder)/config:2:3: error: ProxyJump 'gate.example.org' for 'app' is not a host \
                of the inventory; Flotilla jumps only through inventory hosts, so add \
                'gate.example.org' under hosts:
                  ProxyJump gate.example.org
                  ^
                """)
        }
    }
}
