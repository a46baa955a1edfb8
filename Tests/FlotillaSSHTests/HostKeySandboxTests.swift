// Host keys and identities against real sshd servers: what a user of a fleet would meet.

import Foundation
import Testing

@testable import FlotillaSSH
import FlotillaSandbox

/// Connects with the given policy and identities, runs `true`, and closes. Returns the
/// host key the session verified, or the error.
func tryConnect(
    _ fleet: SandboxFleet, _ host: SandboxHost, hostKeys: HostKeyPolicy,
    identities: [Identity]? = nil, address: String? = nil
) async -> Result<HostKeyInfo, SSHError> {
    var options = connectOptions(fleet, host)
    options.hostKeys = hostKeys
    if let address { options.endpoint = Endpoint(host: address, port: host.port) }
    if let identities { options.identities = identities }
    do {
        let session = try await Session.connect(options)
        let key = session.hostKey
        let result = try? await session.exec("true")
        await session.close()
        #expect(result?.status == .exited(0))
        return .success(key)
    } catch {
        return .failure(error)
    }
}

/// The host's key of one type, as known_hosts would record it.
func hostKey(_ host: SandboxHost, _ type: String) throws -> HostKeyInfo {
    let line = try #require(host.hostKeys.first { $0.hasPrefix(type + " ") })
    let blob = [UInt8](Data(base64Encoded: String(line.split(separator: " ")[1]))!)
    return HostKeyInfo(type: type, fingerprint: sha256Fingerprint(blob), blob: blob)
}

func write(_ text: String, to path: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

// One fleet at a time: the machines these run on are small and often busy.
@Suite("Host keys against sandbox servers", .serialized)
struct HostKeySandboxTests {
    @Test("A pinned fingerprint that matches connects; one that differs is refused")
    func pinned() async throws {
        try await withFleet { fleet in
            let host = fleet.hosts[0]
            let ed25519 = try hostKey(host, "ssh-ed25519")
            let empty = try temporaryFolder() + "/known_hosts"

            let pinned = HostKeyPolicy(knownHostsFiles: [empty], fingerprint: ed25519.fingerprint)
            let accepted = await tryConnect(fleet, host, hostKeys: pinned)
            #expect(try accepted.get().fingerprint == ed25519.fingerprint)

            let other = try await KeyFixture.make("ed25519")
            let wrong = HostKeyPolicy(
                knownHostsFiles: [empty], fingerprint: other.info.fingerprint)
            let refused = await tryConnect(fleet, host, hostKeys: wrong)
            guard case .failure(let error) = refused else {
                Issue.record("connected despite a wrong pin")
                return
            }
            #expect(error.code == .hostKeyChanged)
            #expect(error.message.contains(other.info.fingerprint))
            #expect(error.message.contains("presented ssh-"))
            #expect(!FileManager.default.fileExists(atPath: empty))
        }
    }

    @Test("An unknown host is refused, showing the fingerprint that a pin then accepts")
    func unknownStrict() async throws {
        try await withFleet { fleet in
            let host = fleet.hosts[0]
            let file = try temporaryFolder() + "/known_hosts"
            let result = await tryConnect(fleet, host, hostKeys: .init(knownHostsFiles: [file]))
            guard case .failure(let error) = result else {
                Issue.record("connected to an unknown host")
                return
            }
            #expect(error.code == .hostKeyUnknown)
            #expect(error.alias == host.name)
            #expect(error.message.hasPrefix(
                "host key not known: no entry for [127.0.0.1]:\(host.port) in \(file)"))
            #expect(!FileManager.default.fileExists(atPath: file))

            let shown = try hostKey(host, "ssh-ed25519").fingerprint
            #expect(error.message.contains("pin it with `fingerprint: \(shown)`"))
            let pinned = HostKeyPolicy(knownHostsFiles: [file], fingerprint: shown)
            let accepted = await tryConnect(fleet, host, hostKeys: pinned)
            #expect(try accepted.get().fingerprint == shown)
        }
    }

    @Test("Accept-new records [127.0.0.1]:PORT and strict checking then accepts it")
    func acceptNew() async throws {
        try await withFleet { fleet in
            let host = fleet.hosts[0]
            let file = try temporaryFolder() + "/new/known_hosts"
            let first = await tryConnect(
                fleet, host, hostKeys: .init(knownHostsFiles: [file], mode: .acceptNew))
            let key = try first.get()
            let recorded = try String(contentsOfFile: file, encoding: .utf8)
            #expect(recorded == "[127.0.0.1]:\(host.port) \(key.type) "
                + "\(Data(key.blob).base64EncodedString())\n")
            #expect(host.hostKeys.contains { recorded.contains($0) })

            let second = await tryConnect(fleet, host, hostKeys: .init(knownHostsFiles: [file]))
            #expect(try second.get() == key)
        }
    }

    @Test("R09: a changed key is refused and known_hosts stays as it was")
    func changedKey() async throws {
        try await withFleet { fleet in
            let host = fleet.hosts[0]
            let stale = try await KeyFixture.make("ed25519")
            let file = try temporaryFolder() + "/known_hosts"
            let content = "[127.0.0.1]:\(host.port) \(stale.publicKey)\n"
            try write(content, to: file)
            for mode in [HostKeyPolicy.Mode.strict, .acceptNew] {
                let result = await tryConnect(
                    fleet, host, hostKeys: .init(knownHostsFiles: [file], mode: mode))
                guard case .failure(let error) = result else {
                    Issue.record("connected despite a changed key")
                    return
                }
                let presented = try hostKey(host, "ssh-ed25519")
                #expect(error.code == .hostKeyChanged)
                #expect(error.message.hasPrefix(
                    "host key changed: [127.0.0.1]:\(host.port) presented ssh-ed25519 "
                        + "\(presented.fingerprint), but \(file):1 records ssh-ed25519 "
                        + "\(stale.info.fingerprint)."))
                #expect(error.message.contains(
                    "`ssh-keygen -R '[127.0.0.1]:\(host.port)' -f \(file)`"))
            }
            #expect(try String(contentsOfFile: file, encoding: .utf8) == content)
        }
    }

    @Test("R08: a known_hosts with only one key type matches a server with three",
        arguments: ["ssh-ed25519", "ecdsa-sha2-nistp256"])
    func onlyOneTypeRecorded(type: String) async throws {
        try await withFleet { fleet in
            let host = fleet.hosts[0]
            let file = try temporaryFolder() + "/known_hosts"
            let line = try #require(host.hostKeys.first { $0.hasPrefix(type + " ") })
            try write("[127.0.0.1]:\(host.port) \(line)\n", to: file)
            let result = await tryConnect(fleet, host, hostKeys: .init(knownHostsFiles: [file]))
            #expect(try result.get().type == type)
        }
    }

    @Test("R08: only an RSA key recorded works with libssh2 1.11, and says why not on 1.10")
    func onlyRSARecorded() async throws {
        try await withFleet { fleet in
            let host = fleet.hosts[0]
            let file = try temporaryFolder() + "/known_hosts"
            let line = try #require(host.hostKeys.first { $0.hasPrefix("ssh-rsa ") })
            try write("[127.0.0.1]:\(host.port) \(line)\n", to: file)
            let result = await tryConnect(fleet, host, hostKeys: .init(knownHostsFiles: [file]))
            guard LibSSH2Runtime.signsRSAWithSHA1Only else {
                #expect(try result.get().type == "ssh-rsa")
                return
            }
            guard case .failure(let error) = result else {
                Issue.record("libssh2 \(LibSSH2Runtime.version) verified an RSA host key")
                return
            }
            #expect(error.code == .hostKeyChanged)
            #expect(error.message.contains("but only its RSA key is recorded"))
            #expect(error.message.contains(
                "This build uses libssh2 \(LibSSH2Runtime.version), which can check RSA host "
                    + "keys only with ssh-rsa (SHA-1) signatures"))
        }
    }

    @Test("Hashed known_hosts entries and CRLF line endings are matched")
    func hashedAndCRLF() async throws {
        try await withFleet { fleet in
            let host = fleet.hosts[0]
            let folder = try temporaryFolder()
            let hashed = "\(folder)/hashed"
            try write(try String(contentsOfFile: fleet.knownHostsFile, encoding: .utf8), to: hashed)
            #expect(try await runProgram("/usr/bin/ssh-keygen", ["-H", "-f", hashed]).status == 0)
            let result = await tryConnect(fleet, host, hostKeys: .init(knownHostsFiles: [hashed]))
            #expect((try? result.get()) != nil, "\(result)")

            let crlf = "\(folder)/crlf"
            let text = try String(contentsOfFile: fleet.knownHostsFile, encoding: .utf8)
            try write(text.replacingOccurrences(of: "\n", with: "\r\n"), to: crlf)
            let viaCRLF = await tryConnect(fleet, host, hostKeys: .init(knownHostsFiles: [crlf]))
            #expect((try? viaCRLF.get()) != nil, "\(viaCRLF)")

            let fromEnvironment = HostKeyPolicy(
                knownHostsFiles: [],
                knownHostsText: [("env:KNOWN_HOSTS", text.replacingOccurrences(
                    of: "\n", with: "\r\n"))])
            let viaText = await tryConnect(fleet, host, hostKeys: fromEnvironment)
            #expect((try? viaText.get()) != nil, "\(viaText)")
        }
    }

    @Test("R01: a key from an environment variable with CRLF endings and a BOM logs in")
    func keyFromEnvironmentWithCRLF() async throws {
        try await withFleet { fleet in
            let host = fleet.hosts[0]
            let text = try String(contentsOfFile: fleet.identityFile, encoding: .utf8)
            let damaged = "\u{FEFF}" + text.replacingOccurrences(of: "\n", with: "\r\n")
            let identity = Identity.text(source: "env:DEPLOY_KEY", key: damaged, passphrase: nil)
            let result = await tryConnect(
                fleet, host, hostKeys: .init(knownHostsFiles: [fleet.knownHostsFile]),
                identities: [identity])
            #expect((try? result.get()) != nil, "\(result)")
        }
    }

    @Test("An encrypted key logs in with its passphrase and is refused without or with a wrong one")
    func encryptedKey() async throws {
        try await withFleet { fleet in
            let host = fleet.hosts[0]
            let key = try await KeyFixture.make("ed25519", passphrase: "correct horse")
            try fleet.authorize(publicKey: key.publicKey)
            let policy = HostKeyPolicy(knownHostsFiles: [fleet.knownHostsFile])
            func attempt(_ passphrase: String?) async -> Result<HostKeyInfo, SSHError> {
                await tryConnect(
                    fleet, host, hostKeys: policy,
                    identities: [.file(path: key.privateKeyPath, passphrase: passphrase)])
            }

            #expect((try? await attempt("correct horse").get()) != nil)

            guard case .failure(let missing) = await attempt(nil) else {
                Issue.record("logged in without a passphrase")
                return
            }
            #expect(missing.code == .keyInvalid)
            #expect(missing.message.contains("encrypted and needs a passphrase"))

            guard case .failure(let wrong) = await attempt("battery staple") else {
                Issue.record("logged in with a wrong passphrase")
                return
            }
            #expect(wrong.code == .keyInvalid)
            #expect(wrong.message.hasPrefix("the passphrase for \(key.privateKeyPath) is wrong"))
            #expect(!wrong.description.contains("correct horse"))
            #expect(!wrong.description.contains("battery staple"))
        }
    }

    @Test("IPv6: a server on [::1] with its port is verified from [::1]:PORT entries")
    func ipv6Loopback() async throws {
        let options = try SandboxOptions.temporary(count: 1, namePrefix: "t6-", ipv6: true)
        try await SandboxFleet.withFleet(options) { fleet in
            let host = fleet.hosts[0]
            let file = try temporaryFolder() + "/known_hosts"
            let v6Lines = try String(contentsOfFile: fleet.knownHostsFile, encoding: .utf8)
                .split(separator: "\n").filter { $0.hasPrefix("[::1]:") }
            #expect(v6Lines.count == 3)
            try write(v6Lines.joined(separator: "\n") + "\n", to: file)

            let result = await tryConnect(
                fleet, host, hostKeys: .init(knownHostsFiles: [file]), address: "::1")
            #expect((try? result.get()) != nil, "\(result)")

            let recorded = try temporaryFolder() + "/known_hosts"
            let learned = await tryConnect(
                fleet, host, hostKeys: .init(knownHostsFiles: [recorded], mode: .acceptNew),
                address: "::1")
            #expect((try? learned.get()) != nil, "\(learned)")
            #expect(try String(contentsOfFile: recorded, encoding: .utf8)
                .hasPrefix("[::1]:\(host.port) "))
        }
    }
}

@Suite("Identities from ssh-agent", .serialized)
struct HostKeyAgentTests {
    @Test("A key held by ssh-agent logs in, and an empty agent is named in the refusal")
    func agentKey() async throws {
        let folder = try temporaryFolder()
        let socket = "\(folder)/agent.sock"
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-agent")
        agent.arguments = ["-D", "-a", socket]
        agent.standardOutput = FileHandle.nullDevice
        agent.standardError = FileHandle.nullDevice
        try agent.run()
        defer {
            // Process starts programs with this process's blocked signals, which may
            // include SIGTERM; SIGKILL cannot be blocked.
            kill(agent.processIdentifier, SIGKILL)
            agent.waitUntilExit()
        }
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: socket) {
            try await Task.sleep(for: .milliseconds(10))
        }

        // libssh2 finds the agent through the environment, as OpenSSH's client does.
        let previous = ProcessInfo.processInfo.environment["SSH_AUTH_SOCK"]
        setenv("SSH_AUTH_SOCK", socket, 1)
        defer {
            if let previous { setenv("SSH_AUTH_SOCK", previous, 1) } else {
                unsetenv("SSH_AUTH_SOCK")
            }
        }

        try await withFleet { fleet in
            let host = fleet.hosts[0]
            let policy = HostKeyPolicy(knownHostsFiles: [fleet.knownHostsFile])
            let empty = await tryConnect(fleet, host, hostKeys: policy, identities: [.agent])
            guard case .failure(let error) = empty else {
                Issue.record("logged in with an empty agent")
                return
            }
            #expect(error.code == .authenticationFailed)
            #expect(error.message.contains("ssh-agent"))

            let key = try await KeyFixture.make("ed25519")
            try fleet.authorize(publicKey: key.publicKey)
            let adding = Process()
            adding.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-add")
            adding.arguments = ["-q", key.privateKeyPath]
            adding.environment = ["SSH_AUTH_SOCK": socket]
            adding.standardOutput = FileHandle.nullDevice
            adding.standardError = FileHandle.nullDevice
            try adding.run()
            adding.waitUntilExit()
            #expect(adding.terminationStatus == 0)

            let viaAgent = await tryConnect(fleet, host, hostKeys: policy, identities: [.agent])
            #expect((try? viaAgent.get()) != nil, "\(viaAgent)")
        }
    }
}
