import FlotillaSandbox
import Foundation
import Testing

/// `exec`, `ping` and `trust` against real sshd servers.
@Suite(.serialized) struct HostCommandsEndToEndTests {
    @Test func execRunsTheCommandOnEveryHostAndShowsItsOutput() async throws {
        try await CLIFleet.with(count: 2, prefix: "ex-") { fleet, folder in
            let result = try await FlotillaProcess.run(
                ["exec", "-i", fleet.inventoryPath, "--output", "plain", "--",
                 "echo", "hello", "from", "'$USER'"],
                in: folder.url)
            #expect(result.status == 0, "\(result.stderr)")
            let lines = result.stdout.split(separator: "\n").map(String.init)
            #expect(lines.contains("ex-1 | hello from $USER"))
            #expect(lines.contains("ex-2 | hello from $USER"))

            let failing = try await FlotillaProcess.run(
                ["exec", "-i", fleet.inventoryPath, "-l", "ex-2", "-q", "--", "exit 3"],
                in: folder.url)
            #expect(failing.status == 1)
            #expect(failing.stdout.contains("ex-2 | failed "))
            #expect(!failing.stdout.contains("ex-1"))
        }
    }

    @Test func pingAndTrustTakeAFleetFromUnknownKeysToTrustedOnes() async throws {
        try await CLIFleet.with(count: 2, prefix: "tr-") { fleet, folder in
            let knownHosts = folder.path + "/known_hosts"
            let inventory = try folder.write("inventory.yml", Self.inventory(
                fleet, knownHosts: knownHosts))

            // Unknown keys: ping refuses them, trust without consent records nothing.
            let unknown = try await FlotillaProcess.run(["ping", "-i", inventory], in: folder.url)
            #expect(unknown.status == 3)
            #expect(unknown.stdout.split(separator: "\n").filter {
                $0.hasPrefix("tr-") && $0.contains("  unknown  ")
            }.count == 2)

            let asked = try await FlotillaProcess.run(["trust", "-i", inventory], in: folder.url)
            #expect(asked.status == 3)
            #expect(asked.stdout.contains(
                "not recorded: confirm on a terminal, or pass --yes or --fingerprint"))
            #expect(!FileManager.default.fileExists(atPath: knownHosts))

            // --fingerprint records only the key it names.
            let shown = asked.stdout.split(separator: "\n").first { $0.hasSuffix("  new") }!
            let fingerprint = String(shown.split(separator: " ")[1])
            #expect(fingerprint.hasPrefix("SHA256:"))
            let pinnedOther = try await FlotillaProcess.run(
                ["trust", "-i", inventory, "-l", "tr-2", "--fingerprint", fingerprint],
                in: folder.url)
            #expect(pinnedOther.status == 3)
            #expect(pinnedOther.stdout.contains("not recorded: it is not \(fingerprint)"))
            let pinned = try await FlotillaProcess.run(
                ["trust", "-i", inventory, "-l", "tr-1", "--fingerprint", fingerprint],
                in: folder.url)
            #expect(pinned.status == 0, "\(pinned.stdout)")
            #expect(pinned.stdout.contains("recorded in \(knownHosts)"))

            // --yes records the rest; then everything is trusted and ping passes.
            let yes = try await FlotillaProcess.run(["trust", "-i", inventory, "--yes"], in: folder.url)
            #expect(yes.status == 0)
            #expect(yes.stdout.contains("already trusted"))
            #expect(yes.stdout.contains("recorded in \(knownHosts)"))
            let again = try await FlotillaProcess.run(["trust", "-i", inventory], in: folder.url)
            #expect(again.status == 0)
            let keyLines = again.stdout.split(separator: "\n").filter { $0.contains("SHA256:") }
            #expect(keyLines.count >= 2)
            #expect(keyLines.allSatisfy { $0.hasSuffix("  already trusted") }, "\(keyLines)")
            let ping = try await FlotillaProcess.run(["ping", "-i", inventory], in: folder.url)
            #expect(ping.status == 0, "\(ping.stdout)")
            #expect(ping.stdout.hasPrefix("host  address"))
            #expect(ping.stdout.split(separator: "\n").filter {
                $0.hasPrefix("tr-") && $0.contains("  ok        ok  ")
            }.count == 2)
        }
    }

    @Test func onATerminalTrustRecordsEachKeyOnlyWhenTheUserSaysYes() async throws {
        try await CLIFleet.with(count: 1, prefix: "ask-") { fleet, folder in
            let knownHosts = folder.path + "/known_hosts"
            let inventory = try folder.write("inventory.yml", Self.inventory(
                fleet, knownHosts: knownHosts))
            let command = [FlotillaProcess.executable.path, "trust", "-i", inventory]
                .joined(separator: " ")

            // Yes to the first key, no (and then end of input) to every other.
            let result = try await FlotillaProcess(
                ["-qfec", command, "/dev/null"], in: folder.url,
                executable: URL(fileURLWithPath: "/usr/bin/script"), input: "y\nn\n"
            ).wait(timeout: 60)

            #expect(result.status == 0, "\(result.stdout)")
            let questions = result.stdout.components(separatedBy: "? [y/N] ").count - 1
            #expect(questions >= 2)
            let recorded = try String(contentsOfFile: knownHosts, encoding: .utf8)
                .split(separator: "\n")
            #expect(recorded.count == 1)
            #expect(recorded.first?.hasPrefix("[127.0.0.1]:\(fleet.hosts[0].port) ") == true)
        }
    }

    @Test func aChangedKeyIsShownAsChangedAndNeverReplaced() async throws {
        try await CLIFleet.with(count: 2, prefix: "ch-") { fleet, folder in
            // Host 2's key recorded under host 1's name: host 1 now presents another key.
            let recorded = try String(contentsOfFile: fleet.knownHostsFile, encoding: .utf8)
            let first = fleet.hosts[0]
            let second = fleet.hosts[1]
            let swapped = recorded.split(separator: "\n")
                .filter { $0.hasPrefix("[127.0.0.1]:\(second.port) ") }
                .map { $0.replacingOccurrences(
                    of: "[127.0.0.1]:\(second.port) ", with: "[127.0.0.1]:\(first.port) ") }
            try #require(!swapped.isEmpty)
            let knownHosts = try folder.write(
                "known_hosts", swapped.joined(separator: "\n") + "\n")
            let inventory = try folder.write("inventory.yml", Self.inventory(
                fleet, knownHosts: knownHosts))

            let trust = try await FlotillaProcess.run(
                ["trust", "-i", inventory, "-l", "ch-1", "--yes"], in: folder.url)
            #expect(trust.status == 3)
            #expect(trust.stdout.split(separator: "\n").contains {
                $0.contains("  CHANGED: \(knownHosts):") && $0.contains(" records SHA256:")
            })
            #expect(trust.stdout.contains(
                "    ssh-keygen -R '[127.0.0.1]:\(first.port)' -f \(knownHosts)"))
            #expect(try String(contentsOfFile: knownHosts, encoding: .utf8)
                == swapped.joined(separator: "\n") + "\n")

            let ping = try await FlotillaProcess.run(
                ["ping", "-i", inventory, "-l", "ch-1"], in: folder.url)
            #expect(ping.status == 3)
            #expect(ping.stdout.contains("  CHANGED  "))
        }
    }

    /// Were the host's other key types recorded beside a changed one, a man in the middle
    /// offering only one of those types would pass.
    @Test func whileOneKeyHasChangedNoOtherKeyOfThatHostIsRecorded() async throws {
        try await CLIFleet.with(count: 2, prefix: "cx-") { fleet, folder in
            let recorded = try String(contentsOfFile: fleet.knownHostsFile, encoding: .utf8)
            let first = fleet.hosts[0]
            let second = fleet.hosts[1]
            // Only an ed25519 key is recorded for host 1, and it is host 2's.
            let swapped = recorded.split(separator: "\n")
                .filter { $0.hasPrefix("[127.0.0.1]:\(second.port) ssh-ed25519 ") }
                .map { $0.replacingOccurrences(
                    of: "[127.0.0.1]:\(second.port) ", with: "[127.0.0.1]:\(first.port) ") }
            try #require(swapped.count == 1)
            let knownHosts = try folder.write("known_hosts", swapped[0] + "\n")
            let inventory = try folder.write("inventory.yml", Self.inventory(
                fleet, knownHosts: knownHosts))

            let trust = try await FlotillaProcess.run(
                ["trust", "-i", inventory, "-l", "cx-1", "--yes"], in: folder.url)
            #expect(trust.status == 3)
            #expect(trust.stdout.contains(
                "  not recorded: another key of this host has changed or is revoked"))
            #expect(try String(contentsOfFile: knownHosts, encoding: .utf8) == swapped[0] + "\n")
        }
    }

    @Test func pingReportsAHostThatRefusesConnectionsAndExits3() async throws {
        let folder = try ScratchFolder()
        defer { folder.remove() }
        // Port 1 on the loopback: nothing listens there, so the connection is refused.
        let inventory = try folder.write("inventory.yml", """
            defaults: { known_hosts: \(folder.path)/known_hosts, connect_timeout: 5s }
            hosts:
              closed-1: { address: 127.0.0.1, port: 1 }

            """)
        let result = try await FlotillaProcess.run(["ping", "-i", inventory], in: folder.url)
        #expect(result.status == 3)
        let row = result.stdout.split(separator: "\n").first { $0.hasPrefix("closed-1 ") }
        #expect(row?.contains("127.0.0.1:1  -         refused") == true, "\(result.stdout)")
        #expect(result.stdout.contains("error: closed-1 (127.0.0.1:1): "))
    }

    /// The fleet's hosts with another known_hosts file.
    static func inventory(_ fleet: SandboxFleet, knownHosts: String) -> String {
        var text = """
            defaults:
              identity: \(fleet.identityFile)
              known_hosts: \(knownHosts)
            hosts:

            """
        for host in fleet.hosts {
            text += "  \(host.name): { address: \(host.address), port: \(host.port), "
                + "user: \(host.user) }\n"
        }
        return text
    }
}
