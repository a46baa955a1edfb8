import Foundation
import Testing
@testable import FlotillaConfig

@Suite struct ResolvePlansTests {
    static let environment = Fixture.environment.merging(
        ["FLOTILLA_TEST_SAS_TOKEN": "sas-token-value"]) { $1 }

    func plans(extraVars: [String: String] = [:]) throws -> [HostPlan] {
        let inventory = try Fixture.inventory("inventory/sample.yml")
        let playbook = try Playbook.load(path: Fixture.path("playbooks/deploy.yml"))
        let secrets = try Secrets.resolve(
            playbook.secrets, relativeTo: Fixture.path("playbooks"), environment: Self.environment)
        let hosts = try inventory.select(playbook.hosts)
        return try resolvePlans(
            playbook: playbook, hosts: hosts, extraVars: extraVars, secrets: secrets,
            inventory: inventory)
    }

    @Test func rendersEveryStepForEachHost() throws {
        let plans = try plans()
        #expect(plans.map(\.host.name) == ["web-1", "web-2", "web-3"])
        let web3 = plans[2]
        let code = web3.stages[0].steps
        #expect(code.map(\.id) == ["0/0", "0/1", "0/2"])
        #expect(code[0].kind == .upload(
            localPath: Fixture.path("playbooks/files/deploy.sh"),
            to: "/home/deploy/musicsamples/bin/deploy.sh"))
        #expect(code[0].displayName == "upload the deploy script")
        #expect(code[1].kind == .secret(
            contents: Array("DB_PASSWORD=s3cr3t-value\nAPI_KEY=\"abcd1234\"\n".utf8),
            to: "/home/deploy/musicsamples/.env"))
        #expect(code[1].sensitive)
        #expect(code[1].mode == 0o600)
        #expect(code[2].kind == .run("bin/deploy.sh --host web-3"))
        #expect(code[2].displayName == "run: bin/deploy.sh --host {{ host.name }}")
        #expect(code[2].env["TOKEN"] == "sas-token-value")
        #expect(code[2].sensitive)
        #expect(code[2].cwd == "/home/deploy/musicsamples")

        let services = web3.stages[1].steps
        #expect(services[0].kind == .template(
            localPath: Fixture.path("playbooks/templates/app.conf"),
            contents: Array("server 2001:db8::11:2222\ndomain staging.example.org\nliteral {{ x }}\n".utf8),
            to: "/etc/app.conf"))
        #expect(services[0].selected)
        #expect(plans[0].stages[1].steps[0].selected == false)
        #expect(services[1].kind == .script(
            localPath: Fixture.path("playbooks/files/check.sh"),
            contents: Array("#!/bin/sh\necho check \"$1\"\n".utf8), args: "staging.example.org"))
        #expect(services[2].kind == .secret(
            contents: Array("token=sas-token-value for web-3".utf8), to: "/etc/app/token"))
        #expect(services[3].kind == .fetch(from: "/var/log/app.log", to: "app.log"))
        #expect(web3.handlers["restart gunicorn"]?.id == "handler:restart gunicorn")
    }

    @Test func extraVarsWinOverPlaybookAndInventoryVariables() throws {
        let plans = try plans(extraVars: ["install_dir": "/srv/app"])
        #expect(plans[0].stages[0].steps[2].cwd == "/srv/app")
    }
}
