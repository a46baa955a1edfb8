import Foundation
import Testing

@testable import FlotillaConfig

/// Loading rules that are easiest to see on files written by the test itself.
@Suite struct LoaderDetailTests {
    func write(_ files: [String: String], in folder: String) throws {
        for (name, text) in files {
            let path = folder + "/" + name
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent,
                withIntermediateDirectories: true)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
        }
    }

    @Test func relativePathsInAnInventoryAreReadFromItsFolderAndTildeIsHome() throws {
        let folder = Fixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try write(
            [
                "inventory/keys/deploy": "key",
                "inventory/main.yml": """
                defaults:
                  identity: [keys/deploy, ~/id_test, env:DEPLOY_KEY]
                  known_hosts: known_hosts
                  passphrase: file:pass.txt
                hosts:
                  web-1: {}
                """,
                "home/id_test": "key",
            ], in: folder)
        let environment = ["HOME": folder + "/home", "USER": "u", "DEPLOY_KEY": "text"]
        let inventory = try Inventory.load(
            files: [folder + "/inventory/main.yml"], environment: environment, sshConfig: nil)
        let host = try #require(inventory.hosts.first)
        #expect(
            host.identities == [
                .file(folder + "/inventory/keys/deploy"), .file(folder + "/home/id_test"),
                .env("DEPLOY_KEY"),
            ])
        #expect(host.knownHosts == [.file(folder + "/inventory/known_hosts")])
        #expect(host.passphrase == .file(folder + "/inventory/pass.txt"))
    }

    @Test func defaultIdentitiesAreTheUsualKeysThatExist() throws {
        let folder = Fixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try write(
            [".ssh/id_rsa": "k", ".ssh/id_ed25519": "k", "inv.yml": "hosts:\n  a: {}\n"], in: folder
        )
        let inventory = try Inventory.load(
            files: [folder + "/inv.yml"], environment: ["HOME": folder, "USER": "u"], sshConfig: nil
        )
        #expect(
            inventory.hosts.first?.identities == [
                .file(folder + "/.ssh/id_ed25519"), .file(folder + "/.ssh/id_rsa"),
            ])
    }

    @Test func theDefaultInventoryComesFromTheEnvironmentWhenNoFileIsGiven() throws {
        let environment = Fixture.environment.merging(
            ["FLOTILLA_INVENTORY": Fixture.path("inventory/patterns.yml")]) { $1 }
        let inventory = try Inventory.loadDefault(
            explicit: [], environment: environment, sshConfig: nil)
        #expect(inventory.hosts.count == 6)
        let explicit = try Inventory.loadDefault(
            explicit: [Fixture.path("inventory/ipv6.yml")], environment: environment, sshConfig: nil
        )
        #expect(explicit.hosts.count == 4)
    }

    @Test func withoutAnyInventoryTheErrorSaysWhereOneIsLookedFor() {
        // The test process runs in the package folder, which has no inventory.yml.
        #expect(!FileManager.default.fileExists(atPath: "inventory.yml"))
        do {
            _ = try Inventory.loadDefault(explicit: [], environment: [:], sshConfig: nil)
            Issue.record("no inventory was found, yet nothing was reported")
        } catch {
            #expect(
                error.rendered() == "error: no inventory: pass -i FILE, set "
                    + "FLOTILLA_INVENTORY, or create inventory.yml in the current folder")
        }
    }

    @Test func tabsInsideABlockScalarAreContentNotIndentation() throws {
        let folder = Fixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try write(
            [
                "p.yml":
                    "hosts: all\nstages:\n  - steps:\n      - run: |\n"
                    + "          make\n          \tindented\n"
            ], in: folder)
        let playbook = try Playbook.load(path: folder + "/p.yml")
        #expect(playbook.stages[0].steps[0].kind == .run("make\n\tindented\n"))
    }

    @Test func aPlaybookSavedWithCRLFGivesRunScriptsWithLFOnly() throws {
        let folder = Fixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try write(
            [
                "p.yml": "hosts: all\r\nstages:\r\n  - steps:\r\n      - run: |\r\n"
                    + "          set -e\r\n          make\r\n"
            ], in: folder)
        let playbook = try Playbook.load(path: folder + "/p.yml")
        #expect(playbook.stages[0].steps[0].kind == .run("set -e\nmake\n"))
    }

    @Test func aCRLFScriptIsConvertedWhenTheStepAsksForIt() throws {
        let folder = Fixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try write(
            [
                "s.sh": "#!/bin/sh\r\necho a\r\n",
                "p.yml":
                    "hosts: all\nstages:\n  - steps:\n      - script: s.sh\n"
                    + "        line_endings: normalize\n",
            ], in: folder)
        let playbook = try Playbook.load(path: folder + "/p.yml")
        let host = InventoryHost(name: "h", address: "h", user: "u")
        let plans = try resolvePlans(
            playbook: playbook, hosts: [host], extraVars: [:], secrets: Secrets(values: [:]))
        let step = plans[0].stages[0].steps[0]
        #expect(
            step.kind
                == .script(
                    localPath: folder + "/s.sh", contents: Array("#!/bin/sh\necho a\n".utf8),
                    args: nil))
        #expect(step.lineEndingsNormalized)

        // A file that is already LF is not converted, and so not logged as converted.
        try write(["s.sh": "#!/bin/sh\necho a\n"], in: folder)
        let unchanged = try resolvePlans(
            playbook: playbook, hosts: [host], extraVars: [:], secrets: Secrets(values: [:]))
        #expect(!unchanged[0].stages[0].steps[0].lineEndingsNormalized)
    }

    @Test func aTemplateFileThatUsesSecretsIsWrittenLikeASecret() throws {
        let folder = Fixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try write(
            [
                "db.conf": "password={{ secrets.db }}\n",
                "p.yml": """
                hosts: all
                secrets: { db: env:DB_PW }
                stages:
                  - steps:
                      - template: db.conf
                        to: /etc/db.conf
                """,
            ], in: folder)
        let playbook = try Playbook.load(path: folder + "/p.yml")
        let secrets = try Secrets.resolve(
            playbook.secrets, relativeTo: folder, environment: ["DB_PW": "pw-1234"])
        let host = InventoryHost(name: "h", address: "h", user: "u")
        let step = try resolvePlans(
            playbook: playbook, hosts: [host], extraVars: [:], secrets: secrets)[0]
            .stages[0].steps[0]
        #expect(
            step.kind == .secret(contents: Array("password=pw-1234\n".utf8), to: "/etc/db.conf"))
        #expect(step.sensitive)
        #expect(step.mode == 0o600)
    }

    @Test func secretsFromEveryKindOfSourceAreResolvedOnce() throws {
        let folder = Fixture.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try write(["token.txt": "file-secret\n"], in: folder)
        let declarations = [
            SecretDeclaration(name: "a", source: .env("A_SECRET")),
            SecretDeclaration(name: "b", source: .file("token.txt")),
            SecretDeclaration(name: "c", source: .command("printf 'cmd-secret\\n\\n'")),
        ]
        let secrets = try Secrets.resolve(
            declarations, relativeTo: folder, environment: ["A_SECRET": "env-secret"])
        #expect(secrets.values == ["a": "env-secret", "b": "file-secret\n", "c": "cmd-secret"])
        #expect(try resolveSecretSource(.env("A"), environment: ["A": "x"]) == "x")
    }

    @Test func redactionCoversEachValueOfAMultiLineSecret() {
        let secrets = Secrets(values: [
            "env": "DB_PASSWORD=s3cr3t-value\nAPI_KEY=\"abcd1234\"\nX=1\n"
        ])
        #expect(
            secrets.redactionStrings == [
                "DB_PASSWORD=s3cr3t-value\nAPI_KEY=\"abcd1234\"\nX=1\n",
                "DB_PASSWORD=s3cr3t-value", "API_KEY=\"abcd1234\"", "s3cr3t-value", "abcd1234",
            ])
    }

    static let durations: [(String, Duration?)] = [
        ("90s", .seconds(90)), ("15m", .seconds(900)), ("1h", .seconds(3600)),
        ("1m30s", .seconds(90)), ("500ms", .milliseconds(500)), ("1h2m3s", .seconds(3723)),
        ("0s", .zero), ("90", nil), ("s", nil), ("30s1m", nil), ("1.5h", nil), ("", nil),
        ("1d", nil), ("-5s", nil),
    ]

    @Test(arguments: durations)
    func durationsNeedAUnitAndGoFromLargeToSmall(_ text: String, _ expected: Duration?) {
        #expect(DurationText.parse(text) == expected)
    }
}
