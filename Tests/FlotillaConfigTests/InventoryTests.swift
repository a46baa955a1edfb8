import Foundation
import Testing
@testable import FlotillaConfig

@Suite struct InventoryTests {
    @Test func loadsEveryHostInFileOrderWithMergedSettings() throws {
        let inventory = try Fixture.inventory("inventory/sample.yml")
        #expect(inventory.hosts.map(\.name) == ["web-1", "web-2", "web-3", "db-1", "bastion"])

        let web1 = try #require(inventory.host(named: "web-1"))
        #expect(web1.address == "203.0.113.10")
        #expect(web1.port == 22)
        #expect(web1.user == "deploy")
        #expect(web1.jump == "bastion")
        #expect(web1.fingerprint == "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s")
        #expect(web1.path == ["~/.nvm/versions/node/v20/bin"])
        #expect(web1.connectTimeout == .seconds(10))
        #expect(web1.knownHosts == [.file("/nonexistent-home/.ssh/known_hosts")])
        #expect(web1.groups == ["web"])

        let db = try #require(inventory.host(named: "db-1"))
        #expect(db.user == "postgres")
        #expect(db.port == 2200)
    }

    @Test func variablesGoDefaultsThenParentGroupsThenChildGroupsThenHost() throws {
        let inventory = try Fixture.inventory("inventory/sample.yml")
        func tier(_ name: String) -> Value? { inventory.host(named: name)?.vars["tier"] }
        #expect(tier("bastion") == .string("default"))
        #expect(tier("web-1") == .string("web"))
        #expect(inventory.host(named: "web-3")?.groups == ["web", "canary"])
        #expect(tier("web-3") == .string("host"))
        #expect(inventory.host(named: "web-3")?.vars["backend_domain"] == .string("staging.example.org"))
    }

    @Test func aLaterFileOverridesAnEarlierOneKeyByKey() throws {
        let inventory = try Fixture.inventory("inventory/sample.yml", "inventory/override.yml")
        let web2 = try #require(inventory.host(named: "web-2"))
        #expect(web2.address == "2001:db8::10")
        #expect(web2.port == 2022)
        #expect(web2.user == "ops")
        #expect(web2.vars["tier"] == .string("override"))
        #expect(web2.vars["install_dir"] == .string("/home/deploy/musicsamples"))
        #expect(inventory.hosts.last?.name == "extra-1")
        #expect(inventory.host(named: "db-1")?.user == "postgres")
    }

    @Test func aHostWithoutAddressIsReachedByItsName() throws {
        let folder = Fixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/inventory.yml"
        try "hosts:\n  app.example.org:\n".write(toFile: file, atomically: true, encoding: .utf8)
        let inventory = try Inventory.load(
            files: [file], environment: Fixture.environment, sshConfig: nil)
        #expect(inventory.hosts.first?.address == "app.example.org")
        #expect(inventory.hosts.first?.user == "tester")
    }
}
