import Foundation
import Testing

@testable import FlotillaSSH

/// What verification concludes, reduced to what a user would check.
enum LookupOutcome: Sendable, Equatable, CustomStringConvertible {
    case matches(line: Int)
    case unknown
    case changed(line: Int)
    case otherTypeRecorded
    case revoked
    case invalid(line: Int)

    var description: String {
        switch self {
        case .matches(let line): "matches line \(line)"
        case .unknown: "unknown"
        case .changed(let line): "changed (line \(line))"
        case .otherTypeRecorded: "other type recorded"
        case .revoked: "revoked"
        case .invalid(let line): "invalid line \(line)"
        }
    }
}

/// One known_hosts scenario. `A` and `B` are two ed25519 keys and `C` an ECDSA key; the
/// text names them as KEY_A, KEY_B and KEY_C (B64_A: A's base64 alone).
struct LookupCase: Sendable, CustomTestStringConvertible {
    var name: String
    var knownHosts: String
    var host: String
    var port: Int
    var presented: Character
    var expected: LookupOutcome

    var testDescription: String { name }
}

struct LookupKeys {
    var a: KeyFixture
    var b: KeyFixture
    var c: KeyFixture

    static func make() async throws -> LookupKeys {
        await LookupKeys(a: try .make("ed25519"), b: try .make("ed25519"), c: try .make("ecdsa"))
    }

    func fill(_ text: String) -> String {
        text.replacingOccurrences(of: "B64_A", with: a.publicKey.split(separator: " ")[1])
            .replacingOccurrences(of: "KEY_A", with: a.publicKey)
            .replacingOccurrences(of: "KEY_B", with: b.publicKey)
            .replacingOccurrences(of: "KEY_C", with: c.publicKey)
    }

    func key(_ name: Character) -> KeyFixture {
        switch name {
        case "A": a
        case "B": b
        default: c
        }
    }
}

func outcome(of error: SSHError) -> LookupOutcome {
    switch error.code {
    case .hostKeyUnknown: return .unknown
    case .hostKeyRevoked: return .revoked
    case .hostKeyChanged:
        if error.message.contains("unrecorded type") { return .otherTypeRecorded }
        let line = error.message.firstMatch(of: /fixture:(\d+) records/).map { Int($0.1)! }
        return .changed(line: line ?? 0)
    case .knownHostsInvalid:
        let line = error.message.firstMatch(of: /^fixture:(\d+):/).map { Int($0.1)! }
        return .invalid(line: line ?? 0)
    default: return .unknown
    }
}

func lookup(_ text: String, _ endpoint: Endpoint, _ key: HostKeyInfo) -> LookupOutcome {
    do {
        let policy = HostKeyPolicy(knownHostsFiles: [], knownHostsText: [("fixture", text)])
        let verifier = try HostKeyVerifier(policy: policy, alias: "web1", endpoint: endpoint)
        let verdict = try verifier.verify(key)
        guard case .matchedKnownHosts(let location) = verdict else { return .unknown }
        return .matches(line: Int(location.split(separator: ":").last!)!)
    } catch {
        return outcome(of: error)
    }
}

@Suite("known_hosts lookup")
struct KnownHostsLookupTests {
    static let cases: [LookupCase] = [
        .init(name: "a plain name on port 22", knownHosts: "host1.example KEY_A",
              host: "host1.example", port: 22, presented: "A", expected: .matches(line: 1)),
        .init(name: "a comma list of names and addresses",
              knownHosts: "web1,192.0.2.5 KEY_A", host: "192.0.2.5", port: 22,
              presented: "A", expected: .matches(line: 1)),
        .init(name: "names compare without case", knownHosts: "WEB1.Example.ORG KEY_A",
              host: "web1.example.org", port: 22, presented: "A", expected: .matches(line: 1)),
        .init(name: "a [host]:port entry for its port", knownHosts: "[host1.example]:2222 KEY_A",
              host: "host1.example", port: 2222, presented: "A", expected: .matches(line: 1)),
        .init(name: "a [host]:22 entry serves port 22", knownHosts: "[host1.example]:22 KEY_A",
              host: "host1.example", port: 22, presented: "A", expected: .matches(line: 1)),
        .init(name: "a [host]:port entry does not serve port 22",
              knownHosts: "[host1.example]:2222 KEY_A", host: "host1.example", port: 22,
              presented: "A", expected: .unknown),
        .init(name: "R07: the bare host's key on another port is unknown, not a match",
              knownHosts: "host1.example KEY_A", host: "host1.example", port: 2222,
              presented: "A", expected: .unknown),
        .init(name: "R07: another key on another port is unknown, not changed",
              knownHosts: "host1.example KEY_A", host: "host1.example", port: 2222,
              presented: "B", expected: .unknown),
        .init(name: "CRLF line endings", knownHosts: "# keys\r\nother KEY_B\r\n[h]:2222 KEY_A\r\n",
              host: "h", port: 2222, presented: "A", expected: .matches(line: 3)),
        .init(name: "comments, blank lines, tabs and trailing comments",
              knownHosts: "# first\n\n   \n\th1\tKEY_A  added by hand\n", host: "h1", port: 22,
              presented: "A", expected: .matches(line: 4)),
        .init(name: "R07: a malformed line before the host's line refuses the whole file",
              knownHosts: "garbage-without-key\n[h]:2222 KEY_A", host: "h", port: 2222,
              presented: "A", expected: .invalid(line: 1)),
        .init(name: "an unknown marker is malformed", knownHosts: "ok KEY_B\n@trusted h KEY_A",
              host: "h", port: 22, presented: "A", expected: .invalid(line: 2)),
        .init(name: "a key that is not base64 is malformed", knownHosts: "h ssh-ed25519 %%%",
              host: "h", port: 22, presented: "A", expected: .invalid(line: 1)),
        .init(name: "a key whose type disagrees with the line is malformed",
              knownHosts: "h ecdsa-sha2-nistp256 B64_A",
              host: "h", port: 22, presented: "A", expected: .invalid(line: 1)),
        .init(name: "a broken hashed name is malformed", knownHosts: "|1|abc KEY_A",
              host: "h", port: 22, presented: "A", expected: .invalid(line: 1)),
        .init(name: "a different key of the same type has changed",
              knownHosts: "x KEY_B\n[h]:2222 KEY_A", host: "h", port: 2222, presented: "B",
              expected: .changed(line: 2)),
        .init(name: "only a key of another type is recorded", knownHosts: "[h]:2222 KEY_C",
              host: "h", port: 2222, presented: "A", expected: .otherTypeRecorded),
        .init(name: "a revoked key is refused even when also recorded",
              knownHosts: "@revoked * KEY_A\n[h]:2222 KEY_A", host: "h", port: 2222,
              presented: "A", expected: .revoked),
        .init(name: "a revoked line for other hosts does not apply",
              knownHosts: "@revoked other KEY_A\n[h]:2222 KEY_A", host: "h", port: 2222,
              presented: "A", expected: .matches(line: 2)),
        .init(name: "a certificate authority line is ignored",
              knownHosts: "@cert-authority *.example.org KEY_A", host: "w.example.org",
              port: 22, presented: "A", expected: .unknown),
        .init(name: "IPv6 with a port", knownHosts: "[2001:db8::10]:2222 KEY_A",
              host: "2001:db8::10", port: 2222, presented: "A", expected: .matches(line: 1)),
        .init(name: "IPv6 on port 22 is written bare", knownHosts: "2001:db8::10 KEY_A",
              host: "2001:db8::10", port: 22, presented: "A", expected: .matches(line: 1)),
        .init(name: "IPv6 with a port does not match the bare address",
              knownHosts: "2001:db8::10 KEY_A", host: "2001:db8::10", port: 2222,
              presented: "A", expected: .unknown),
        .init(name: "a * wildcard", knownHosts: "*.example.org KEY_A", host: "web1.example.org",
              port: 22, presented: "A", expected: .matches(line: 1)),
        .init(name: "a wildcard inside brackets with a port",
              knownHosts: "[*.example.org]:2222 KEY_A", host: "web1.example.org", port: 2222,
              presented: "A", expected: .matches(line: 1)),
        .init(name: "a ? wildcard stands for one character", knownHosts: "web?.example.org KEY_A",
              host: "web10.example.org", port: 22, presented: "A", expected: .unknown),
        .init(name: "a negated name excludes a host the wildcard includes",
              knownHosts: "*.example.org,!db.example.org KEY_A", host: "db.example.org",
              port: 22, presented: "A", expected: .unknown),
        .init(name: "a negated name leaves the other hosts matched",
              knownHosts: "*.example.org,!db.example.org KEY_A", host: "web.example.org",
              port: 22, presented: "A", expected: .matches(line: 1)),
    ]

    @Test("Looking up a host key in known_hosts", arguments: cases)
    func lookupCase(_ scenario: LookupCase) async throws {
        let keys = try await LookupKeys.make()
        let endpoint = Endpoint(host: scenario.host, port: scenario.port)
        let result = lookup(
            keys.fill(scenario.knownHosts), endpoint, keys.key(scenario.presented).info)
        #expect(result == scenario.expected)
    }

    @Test("Names hashed by ssh-keygen -H are found, with and without a port")
    func hashedNames() async throws {
        let keys = try await LookupKeys.make()
        let folder = try temporaryFolder()
        let file = "\(folder)/known_hosts"
        try keys.fill("[127.0.0.1]:2222 KEY_A\nhost1.example KEY_B\n")
            .write(toFile: file, atomically: true, encoding: .utf8)
        let hashing = try await runProgram("/usr/bin/ssh-keygen", ["-H", "-f", file])
        #expect(hashing.status == 0, "\(hashing.output)")
        let hashed = try String(contentsOfFile: file, encoding: .utf8)
        #expect(hashed.hasPrefix("|1|") && !hashed.contains("127.0.0.1"))

        let policy = HostKeyPolicy(knownHostsFiles: [file])
        let onPort = try HostKeyVerifier(
            policy: policy, alias: "a", endpoint: Endpoint(host: "127.0.0.1", port: 2222))
        #expect(try onPort.verify(keys.a.info) == .matchedKnownHosts(at: "\(file):1"))
        let bare = try HostKeyVerifier(
            policy: policy, alias: "b", endpoint: Endpoint(host: "host1.example"))
        #expect(try bare.verify(keys.b.info) == .matchedKnownHosts(at: "\(file):2"))
        let otherPort = try HostKeyVerifier(
            policy: policy, alias: "c", endpoint: Endpoint(host: "host1.example", port: 2200))
        #expect(throws: SSHError.self) { try otherPort.verify(keys.b.info) }
    }

    @Test("A missing known_hosts file is empty, not an error")
    func missingFileIsEmpty() async throws {
        let policy = HostKeyPolicy(knownHostsFiles: ["/nonexistent/flotilla/known_hosts"])
        let verifier = try HostKeyVerifier(
            policy: policy, alias: "a", endpoint: Endpoint(host: "h"))
        #expect(verifier.entries.isEmpty)
    }

    @Test("A malformed line is reported with its file and line, and the alias")
    func malformedLineMessage() async throws {
        let folder = try temporaryFolder()
        let file = "\(folder)/known_hosts"
        try "# ok\nhost1 ssh-ed25519\n".write(toFile: file, atomically: true, encoding: .utf8)
        let policy = HostKeyPolicy(knownHostsFiles: [file])
        #expect {
            _ = try HostKeyVerifier(
                policy: policy, alias: "web1", endpoint: Endpoint(host: "127.0.0.1", port: 2222))
        } throws: { error in
            let error = error as! SSHError
            return error.code == .knownHostsInvalid
                && error.description == "web1 (127.0.0.1:2222): \(file):2: expected host names, "
                + "a key type and a key, found 2 field(s); fix or delete that line (each line "
                + "is `[marker] host[,host…] key-type base64-key [comment]`)"
        }
    }

    @Test("Host-key algorithms put the recorded types first, then libssh2's order")
    func preferredAlgorithms() async throws {
        let keys = try await LookupKeys.make()
        let supported = [
            "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ssh-ed25519", "rsa-sha2-512",
            "rsa-sha2-256", "ssh-rsa",
        ]
        func preferred(_ text: String, port: Int = 2222) throws -> [String] {
            let policy = HostKeyPolicy(knownHostsFiles: [], knownHostsText: [("t", text)])
            return try HostKeyVerifier(
                policy: policy, alias: "a", endpoint: Endpoint(host: "h", port: port)
            ).preferredAlgorithms(supported: supported)
        }
        #expect(try preferred(keys.fill("[h]:2222 KEY_C")) == [
            "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ssh-ed25519", "rsa-sha2-512",
            "rsa-sha2-256", "ssh-rsa",
        ])
        #expect(try preferred(keys.fill("[h]:2222 KEY_A\n[h]:2222 KEY_C")).prefix(2) == [
            "ssh-ed25519", "ecdsa-sha2-nistp256",
        ])
        let rsa = try await KeyFixture.make("rsa")
        #expect(try preferred("[h]:2222 \(rsa.publicKey)").prefix(3) == [
            "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa",
        ])
        // Nothing usable recorded, or a pin: OpenSSH's order, so an unknown host shows the
        // key a pin will later be checked against.
        let openSSHOrder = [
            "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "rsa-sha2-512",
            "rsa-sha2-256", "ssh-rsa",
        ]
        #expect(try preferred(keys.fill("h KEY_C")) == openSSHOrder)
        #expect(try preferred(keys.fill("h KEY_C"), port: 22).first == "ecdsa-sha2-nistp256")
        // A DSA key (p, q, g and y of one byte each), a type libssh2 is not offering.
        let dsa = "AAAAB3NzaC1kc3MAAAABAQAAAAECAAAAAQMAAAABBA=="
        #expect(try preferred("[h]:2222 ssh-dss \(dsa)") == openSSHOrder)
        let pinned = try HostKeyVerifier(
            policy: HostKeyPolicy(
                knownHostsFiles: [], knownHostsText: [("t", keys.fill("h KEY_C"))],
                fingerprint: "SHA256:x"),
            alias: "a", endpoint: Endpoint(host: "h"))
        #expect(pinned.preferredAlgorithms(supported: supported) == openSSHOrder)
    }
}
