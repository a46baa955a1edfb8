import Foundation
import Testing

/// `hosts` and `validate`: inventories and playbooks read, nothing contacted.
@Suite struct InputCommandsTests {
    static let inventory = """
        defaults: { user: deploy, vars: { tier: base } }
        groups:
          web: { hosts: [web-1, web-2], vars: { tier: web } }
        hosts:
          web-1: { address: 10.0.0.1 }
          web-2: { address: "2001:db8::2", port: 2222 }
          db-1: { address: db.example.org, user: postgres }

        """

    static let playbook = """
        name: Deploy
        hosts: web
        secrets:
          token: env:FLOTILLA_CLI_TEST_UNSET_TOKEN
        stages:
          - name: code
            steps:
              - run: echo {{ tier }}
              - content: "token={{ secrets.token }}"
                to: /etc/app/token
          - name: services
            steps:
              - run: systemctl restart app

        """

    @Test func hostsListsAddressUserAndGroupsOfWhatThePatternSelects() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        try folder.write("inventory.yml", Self.inventory)

        let result = try await FlotillaProcess.run(["hosts", "-l", "web,!web-1"], in: folder.url)
        #expect(result.status == 0)
        #expect(result.stdout == """
            host   address             user    groups
            web-2  [2001:db8::2]:2222  deploy  web

            """)

        let withVars = try await FlotillaProcess.run(
            ["hosts", "--vars", "-l", "db-1"],
            environment: ["FLOTILLA_INVENTORY": folder.path + "/inventory.yml"])
        #expect(withVars.stdout == """
            host  address            user      groups
            db-1  db.example.org:22  postgres
                tier: base

            """)
    }

    @Test func validateSaysOkWithCountsWithoutReadingSecrets() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let inventory = try folder.write("inventory.yml", Self.inventory)
        let playbook = try folder.write("deploy.yml", Self.playbook)

        let result = try await FlotillaProcess.run(["validate", playbook, "-i", inventory])
        #expect(result.stderr == "")
        #expect(result.stdout == "ok: 2 hosts, 2 stages, 3 steps\n")
        #expect(result.status == 0)
    }

    @Test func inputErrorsAreReportedLikeACompilerAndExit2() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let inventory = try folder.write(
            "inventory.yml", "hosts:\n  web-1: { address: 10.0.0.1, prot: 22 }\n")

        let result = try await FlotillaProcess.run(["hosts", "-i", inventory])
        #expect(result.status == 2)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.hasPrefix(
            "\(inventory):2:31: error: unknown key 'prot' in host 'web-1'"))
    }

    @Test func runStopsAtAnInputErrorBeforeContactingAnyHost() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let inventory = try folder.write("inventory.yml", Self.inventory)
        let playbook = try folder.write(
            "bad.yml", "name: x\nhosts: web\nstages:\n  - name: a\n    stepz: []\n")

        let result = try await FlotillaProcess.run(["run", playbook, "-i", inventory])
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(playbook):5:5: error: unknown key 'stepz'"))
        #expect(result.stdout.isEmpty)
    }

    @Test func inGitHubActionsInputErrorsAlsoBecomeAnnotationsOnTheFile() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let inventory = try folder.write("inventory.yml", Self.inventory)
        let playbook = try folder.write(
            "bad.yml", "name: x\nhosts: web\nstages:\n  - name: a\n    stepz: []\n")

        let result = try await FlotillaProcess.run(
            ["run", playbook, "-i", inventory], environment: ["GITHUB_ACTIONS": "true"])
        #expect(result.status == 2)
        #expect(result.stdout.split(separator: "\n").contains(
            "::error file=\(playbook),line=5,col=5::unknown key 'stepz' in a stage; "
                + "did you mean 'steps'?"))
    }

    @Test func aPlaybookSelectingAnUnknownGroupIsReportedAtItsLine() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        let inventory = try folder.write("inventory.yml", Self.inventory)
        let playbook = try folder.write(
            "p.yml", "name: x\nhosts: webs\nstages:\n  - name: a\n    steps:\n"
                + "      - run: \"true\"\n")

        let result = try await FlotillaProcess.run(["validate", playbook, "-i", inventory])
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("\(playbook):2:8: error: unknown host or group 'webs'"))
        #expect(result.stderr.contains("\nhosts: webs\n       ^"))
    }
}
