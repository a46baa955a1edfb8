import Foundation
import Testing

@testable import FlotillaSandbox

@Suite("Sandbox fleet")
struct SandboxFleetTests {
    @Test("A fleet of three comes up and every port answers with an SSH banner")
    func threeServersAnswer() async throws {
        let options = try SandboxOptions.temporary(count: 3, namePrefix: "fleet-banner-")
        try await SandboxFleet.withFleet(options) { fleet in
            let hosts = fleet.hosts
            #expect(hosts.map(\.name) == ["fleet-banner-1", "fleet-banner-2", "fleet-banner-3"])
            #expect(Set(hosts.map(\.port)).count == 3)
            for host in hosts {
                #expect(host.address == "127.0.0.1")
                let line = try banner(port: host.port)
                #expect(line.hasPrefix("SSH-2.0-OpenSSH"))
            }
        }
    }

    @Test("OpenSSH's client logs in to every host with strict host key checking")
    func openSSHLogsIn() async throws {
        let options = try SandboxOptions.temporary(count: 3, namePrefix: "fleet-login-")
        try await SandboxFleet.withFleet(options) { fleet in
            for host in fleet.hosts {
                let result = try await ssh(fleet, host, "id -un; echo $HOME")
                #expect(result.status == 0, "\(host.name): \(result.output)")
                #expect(result.output == "\(host.user)\n\(host.home)\n")
            }
        }
    }

    @Test("Each host has its own ed25519 key and known_hosts lists every key of every port")
    func knownHostsCoverEveryKey() async throws {
        let options = try SandboxOptions.temporary(count: 2, namePrefix: "fleet-keys-")
        try await SandboxFleet.withFleet(options) { fleet in
            let hosts = fleet.hosts
            let ed25519 = hosts.map { $0.hostKeys.first { $0.hasPrefix("ssh-ed25519 ") } }
            #expect(ed25519.allSatisfy { $0 != nil })
            #expect(Set(ed25519).count == 2)
            #expect(hosts.allSatisfy { host in
                host.hostKeys.map { $0.split(separator: " ")[0] }
                    == ["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"]
            })

            let knownHosts = try String(contentsOfFile: fleet.knownHostsFile, encoding: .utf8)
            let expected = hosts.flatMap { host in
                host.hostKeys.map { "[127.0.0.1]:\(host.port) \($0)" }
            }
            #expect(knownHosts == expected.joined(separator: "\n") + "\n")
            #expect(fleet.knownHostsFile == "\(fleet.folder)/sandbox_known_hosts")
        }
    }

    @Test("The inventory names every host with its port, the identity and the known_hosts")
    func inventoryDescribesTheFleet() async throws {
        let options = try SandboxOptions.temporary(
            count: 2, namePrefix: "fleet-inv-", userPerHost: false)
        try await SandboxFleet.withFleet(options) { fleet in
            let hosts = fleet.hosts
            let user = hosts[0].user
            let inventory = try String(contentsOfFile: fleet.inventoryPath, encoding: .utf8)
            let body = inventory.split(separator: "\n").filter { !$0.hasPrefix("#") }
            #expect(body == [
                "defaults:",
                "  user: \(user)",
                "  identity: \(fleet.identityFile)",
                "  known_hosts: \(fleet.knownHostsFile)",
                "  host_keys: strict",
                "groups:",
                "  sandbox:",
                "    hosts: [fleet-inv-1, fleet-inv-2]",
                "hosts:",
                "  fleet-inv-1:",
                "    address: 127.0.0.1",
                "    port: \(hosts[0].port)",
                "  fleet-inv-2:",
                "    address: 127.0.0.1",
                "    port: \(hosts[1].port)",
            ])
        }
    }

    @Test("Stopping the fleet leaves no process behind, open connections included")
    func downLeavesNothing() async throws {
        let options = try SandboxOptions.temporary(count: 2, namePrefix: "fleet-down-")
        let fleet = try await SandboxFleet.start(options)
        let host = fleet.hosts[0]
        // A session that stays open while the fleet goes down.
        let client = try startSSH(fleet, host, "sleep 60")
        // SIGKILL: Process may start the client with SIGTERM blocked.
        defer { kill(client.processIdentifier, SIGKILL) }
        var connection: [pid_t] = []
        // A bound against hangs: a busy machine may take many seconds to log in.
        let deadline = ContinuousClock.now + .seconds(90)
        while connection.count < 2 && client.isRunning && ContinuousClock.now < deadline {
            connection = ProcessTable.descendants(of: host.pid)
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(
            connection.count >= 2,
            "the session's processes were not seen; ssh running: \(client.isRunning)")

        fleet.down()

        let servers = fleet.hosts.map(\.pid) + [host.pid]
        #expect(servers.prefix(2).allSatisfy { $0 == 0 })
        for pid in connection + [host.pid] {
            #expect(!ProcessTable.isRunning(pid), "process \(pid) still runs")
        }
        // Only the servers name their configs under hosts/ (the client names the key).
        #expect(processes(mentioning: "\(fleet.folder)/hosts/").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: "\(fleet.folder)/sandbox.json"))
    }

    @Test("Another process can see and stop a fleet from its folder alone")
    func downByFolder() async throws {
        var options = try SandboxOptions.temporary(count: 2, namePrefix: "fleet-rec-")
        options.keepRunning = true
        let fleet = try await SandboxFleet.start(options)
        defer { fleet.down() }

        let status = try SandboxFleet.status(folder: fleet.folder)
        #expect(status.map(\.host.name) == ["fleet-rec-1", "fleet-rec-2"])
        #expect(status.allSatisfy { $0.running })

        let stopped = try SandboxFleet.down(folder: fleet.folder)
        #expect(stopped == ["fleet-rec-1", "fleet-rec-2"])
        #expect(processes(mentioning: fleet.folder).isEmpty)
        #expect(throws: SandboxError.self) { try SandboxFleet.status(folder: fleet.folder) }
    }

    @Test("A host stopped or killed starts again on the same port with the same keys")
    func restartKeepsPortAndKeys() async throws {
        let options = try SandboxOptions.temporary(count: 2, namePrefix: "fleet-restart-")
        try await SandboxFleet.withFleet(options) { fleet in
            let before = fleet.hosts[0]
            try fleet.stop(before.name)
            #expect(fleet.hosts[0].pid == 0)
            #expect(throws: (any Error).self) { try banner(port: before.port) }
            let other = try banner(port: fleet.hosts[1].port)
            #expect(other.hasPrefix("SSH-2.0-"))

            try fleet.start(before.name)
            let after = fleet.hosts[0]
            #expect(after.port == before.port)
            #expect(after.pid != 0 && after.pid != before.pid)
            let login = try await ssh(fleet, after, "true")
            #expect(login.status == 0, "\(login.output)")

            try fleet.kill(before.name)
            #expect(!ProcessTable.isRunning(after.pid))
            try fleet.start(before.name)
            let again = try await ssh(fleet, fleet.hosts[0], "true")
            #expect(again.status == 0, "\(again.output)")
        }
    }

    @Test("A paused host accepts TCP but sends no banner until it is resumed")
    func pauseSilencesAHost() async throws {
        let options = try SandboxOptions.temporary(count: 1, namePrefix: "fleet-pause-")
        try await SandboxFleet.withFleet(options) { fleet in
            let host = fleet.hosts[0]
            try fleet.pause(host.name)
            #expect(!LoopbackProbe.answersSSH(port: host.port, timeoutMilliseconds: 300))
            try fleet.resume(host.name)
            #expect(LoopbackProbe.answersSSH(port: host.port, timeoutMilliseconds: 2000))
        }
    }

    @Test("Each host's user runs sudo without a password", .enabled(if: geteuid() == 0))
    func sandboxUsersHaveSudo() async throws {
        let options = try SandboxOptions.temporary(count: 2, namePrefix: "fleet-sudo-")
        try await SandboxFleet.withFleet(options) { fleet in
            for host in fleet.hosts {
                #expect(host.user == "flotilla-\(host.name)")
                let result = try await ssh(fleet, host, "sudo -n id -un")
                #expect(result.output == "root\n")
            }
        }
    }

    @Test("A new fleet with the names of an old one starts from fresh homes",
          .enabled(if: geteuid() == 0))
    func aNewFleetStartsFromFreshHomes() async throws {
        var options = try SandboxOptions.temporary(count: 1, namePrefix: "fleet-fresh-")
        options.freshHomes = true
        try await SandboxFleet.withFleet(options) { fleet in
            let home = fleet.hosts[0].home
            #expect(FileManager.default.createFile(atPath: home + "/left-over", contents: nil))
            try FileManager.default.createDirectory(
                atPath: home + "/.flotilla/lock", withIntermediateDirectories: true)
        }
        var again = try SandboxOptions.temporary(count: 1, namePrefix: "fleet-fresh-")
        again.freshHomes = true
        try await SandboxFleet.withFleet(again) { fleet in
            let home = fleet.hosts[0].home
            #expect(!FileManager.default.fileExists(atPath: home + "/left-over"))
            #expect(!FileManager.default.fileExists(atPath: home + "/.flotilla"))
            #expect(FileManager.default.fileExists(atPath: home + "/.bashrc"))
            let result = try await ssh(fleet, fleet.hosts[0], "stat -c %U ~/.bashrc")
            #expect(result.output == "\(fleet.hosts[0].user)\n")
        }
    }

    @Test("Twenty servers come up together, each on its own port")
    func twentyServersComeUpQuickly() async throws {
        let options = try SandboxOptions.temporary(
            count: 20, namePrefix: "fleet-many-", userPerHost: false)
        let clock = ContinuousClock()
        let started = clock.now
        try await SandboxFleet.withFleet(options) { fleet in
            #expect(fleet.hosts.count == 20)
            #expect(Set(fleet.hosts.map(\.port)).count == 20)
            // A bound against hangs; unloaded, twenty servers take one to two seconds.
            #expect(clock.now - started < .seconds(60))
        }
    }

    @Test("A second fleet in a running fleet's folder is refused, and unknown hosts are named")
    func refusesDoubleStart() async throws {
        let options = try SandboxOptions.temporary(count: 1, namePrefix: "fleet-twice-")
        try await SandboxFleet.withFleet(options) { fleet in
            #expect {
                _ = try SandboxFleet.up(options)
            } throws: { error in
                (error as? SandboxError)?.code == .alreadyRunning
            }
            #expect {
                try fleet.stop("fleet-twice-9")
            } throws: { error in
                let error = error as? SandboxError
                return error?.code == .unknownHost
                    && error?.message == "no host fleet-twice-9 in the sandbox fleet "
                    + "(hosts: fleet-twice-1)"
            }
            #expect(fleet.hosts[0].pid != 0)
        }
    }

    @Test("Extra sshd_config lines reach every server, and IPv6 adds [::1] lines")
    func extraConfigAndIPv6() async throws {
        let options = try SandboxOptions.temporary(
            count: 2, namePrefix: "fleet-extra-", userPerHost: false,
            extraServerConfig: "Banner /etc/hostname", ipv6: true)
        try await SandboxFleet.withFleet(options) { fleet in
            for host in fleet.hosts {
                let config = try String(contentsOfFile: host.configFile, encoding: .utf8)
                #expect(config.hasSuffix("\nBanner /etc/hostname\n"))
                #expect(config.contains("ListenAddress [::1]:\(host.port)\n"))
            }
            let knownHosts = try String(contentsOfFile: fleet.knownHostsFile, encoding: .utf8)
            let v6 = knownHosts.split(separator: "\n").filter { $0.hasPrefix("[::1]:") }
            #expect(v6.count == 6)
        }
    }
}
