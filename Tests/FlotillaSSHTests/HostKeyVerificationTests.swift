import Foundation
import Testing

@testable import FlotillaSSH

@Suite("Host key verification")
struct HostKeyVerificationTests {
    let endpoint = Endpoint(host: "127.0.0.1", port: 2222)

    func verifier(
        file: String, mode: HostKeyPolicy.Mode = .strict, fingerprint: String? = nil
    ) throws -> HostKeyVerifier {
        let policy = HostKeyPolicy(knownHostsFiles: [file], fingerprint: fingerprint, mode: mode)
        return try HostKeyVerifier(policy: policy, alias: "web1", endpoint: endpoint)
    }

    func refusal(_ body: () throws -> Void) -> SSHError? {
        do {
            try body()
            return nil
        } catch let error as SSHError {
            return error
        } catch {
            return nil
        }
    }

    @Test("A pinned fingerprint that matches accepts the key, whatever known_hosts says")
    func pinnedMatch() async throws {
        let key = try await KeyFixture.make("ed25519")
        let other = try await KeyFixture.make("ed25519")
        let folder = try temporaryFolder()
        let file = "\(folder)/known_hosts"
        try "[127.0.0.1]:2222 \(other.publicKey)\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        let check = try verifier(file: file, fingerprint: key.info.fingerprint)
        #expect(try check.verify(key.info) == .matchedPin)

        // known_hosts is not even read: a damaged one does not stop a pinned host.
        try "not a known_hosts line\n".write(toFile: file, atomically: true, encoding: .utf8)
        let damaged = try verifier(file: file, fingerprint: key.info.fingerprint)
        #expect(try damaged.verify(key.info) == .matchedPin)
    }

    @Test("A pinned fingerprint that differs refuses with both fingerprints")
    func pinnedMismatch() async throws {
        let key = try await KeyFixture.make("ed25519")
        let pinned = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
        let error = refusal {
            try verifier(file: "/nonexistent/kh", fingerprint: pinned).verify(key.info)
        }
        #expect(error?.code == .hostKeyChanged)
        #expect(error?.description == "web1 (127.0.0.1:2222): host key does not match the "
            + "pinned fingerprint: [127.0.0.1]:2222 presented ssh-ed25519 "
            + "\(key.info.fingerprint), the inventory pins \(pinned) for web1. Flotilla asks "
            + "for the ed25519 key first, then ECDSA, then RSA: pin the first of these the host "
            + "has (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the host). If the "
            + "host was rebuilt, confirm the new fingerprint with its administrator and update "
            + "`fingerprint:`; otherwise the connection may be intercepted")
    }

    @Test("R09: a changed key names the file, line, both keys and the fix, and changes nothing")
    func changedKey() async throws {
        let old = try await KeyFixture.make("ed25519")
        let new = try await KeyFixture.make("ed25519")
        let folder = try temporaryFolder()
        let file = "\(folder)/known_hosts"
        let content = "# fleet\n[127.0.0.1]:2222 \(old.publicKey)\n"
        try content.write(toFile: file, atomically: true, encoding: .utf8)

        for mode in [HostKeyPolicy.Mode.strict, .acceptNew] {
            let error = refusal { try verifier(file: file, mode: mode).verify(new.info) }
            #expect(error?.code == .hostKeyChanged)
            #expect(error?.message == "host key changed: [127.0.0.1]:2222 presented "
                + "ssh-ed25519 \(new.info.fingerprint), but \(file):2 records ssh-ed25519 "
                + "\(old.info.fingerprint). If the host was rebuilt, confirm the new "
                + "fingerprint with its administrator, remove the old key with "
                + "`ssh-keygen -R '[127.0.0.1]:2222' -f \(file)`, then run "
                + "`flotilla trust -l web1`; otherwise the connection may be intercepted")
        }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == content)
    }

    @Test("R09: a key of a type not recorded is refused, saying another type is recorded")
    func otherTypeRecorded() async throws {
        let recorded = try await KeyFixture.make("ecdsa")
        let presented = try await KeyFixture.make("ed25519")
        let folder = try temporaryFolder()
        let file = "\(folder)/known_hosts"
        let content = "[127.0.0.1]:2222 \(recorded.publicKey)\n"
        try content.write(toFile: file, atomically: true, encoding: .utf8)

        for mode in [HostKeyPolicy.Mode.strict, .acceptNew] {
            let error = refusal { try verifier(file: file, mode: mode).verify(presented.info) }
            #expect(error?.code == .hostKeyChanged)
            #expect(error?.message == "host key of an unrecorded type: [127.0.0.1]:2222 "
                + "presented ssh-ed25519 \(presented.info.fingerprint), but only keys of "
                + "another type are recorded (ecdsa-sha2-nistp256 \(recorded.info.fingerprint) "
                + "at \(file):1). The host was likely rebuilt, or the connection is "
                + "intercepted; confirm the fingerprint with its administrator, remove the "
                + "old key with `ssh-keygen -R '[127.0.0.1]:2222' -f \(file)`, then run "
                + "`flotilla trust -l web1`")
        }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == content)
    }

    @Test("A revoked key is refused, naming the line that revokes it")
    func revokedKey() async throws {
        let key = try await KeyFixture.make("ed25519")
        let folder = try temporaryFolder()
        let file = "\(folder)/known_hosts"
        try "@revoked * \(key.publicKey)\n".write(toFile: file, atomically: true, encoding: .utf8)
        let error = refusal { try verifier(file: file, mode: .acceptNew).verify(key.info) }
        #expect(error?.code == .hostKeyRevoked)
        #expect(error?.message == "host key revoked: [127.0.0.1]:2222 presented ssh-ed25519 "
            + "\(key.info.fingerprint), which \(file):1 marks @revoked. Do not connect; ask "
            + "the host's administrator for its new key")
    }

    @Test("An unknown key under strict checking is refused with the ways to trust it")
    func unknownStrict() async throws {
        let key = try await KeyFixture.make("ed25519")
        let other = try await KeyFixture.make("ed25519")
        let folder = try temporaryFolder()
        let file = "\(folder)/known_hosts"
        try "127.0.0.1 \(other.publicKey)\n".write(toFile: file, atomically: true, encoding: .utf8)
        let error = refusal { try verifier(file: file).verify(key.info) }
        #expect(error?.code == .hostKeyUnknown)
        #expect(error?.description == "web1 (127.0.0.1:2222): host key not known: no entry "
            + "for [127.0.0.1]:2222 in \(file); it presented ssh-ed25519 "
            + "\(key.info.fingerprint). Confirm the fingerprint, then run `flotilla trust -l "
            + "web1`, pin it with `fingerprint: \(key.info.fingerprint)`, or set "
            + "`host_keys: accept-new`. (\(file):1 records 127.0.0.1 without a port: that "
            + "entry is for port 22 only)")
    }

    @Test("Accept-new records [127.0.0.1]:PORT in a new 0600 file and then matches it")
    func acceptNewRecords() async throws {
        let key = try await KeyFixture.make("ed25519")
        let folder = try temporaryFolder()
        let file = "\(folder)/new/folder/known_hosts"
        let check = try verifier(file: file, mode: .acceptNew)
        #expect(try check.verify(key.info) == .recorded(in: file))

        #expect(try String(contentsOfFile: file, encoding: .utf8)
            == "[127.0.0.1]:2222 \(key.publicKey)\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let again = try verifier(file: file, mode: .strict)
        #expect(try again.verify(key.info) == .matchedKnownHosts(at: "\(file):1"))
    }

    @Test("Recording on port 22 writes the bare host, after a last line without newline")
    func recordPort22() async throws {
        let key = try await KeyFixture.make("ed25519")
        let folder = try temporaryFolder()
        let file = "\(folder)/known_hosts"
        try "# no newline".write(toFile: file, atomically: true, encoding: .utf8)
        try KnownHosts.record(key.info, for: Endpoint(host: "2001:DB8::10"), in: file)
        #expect(try String(contentsOfFile: file, encoding: .utf8)
            == "# no newline\n2001:db8::10 \(key.publicKey)\n")
        let status = try KnownHosts.status(
            of: key.info, for: Endpoint(host: "2001:db8::10"), files: [file])
        #expect(status == .matches)
    }

    @Test("Status tells trust whether a key matches, changed, is unknown or revoked")
    func statusForTrust() async throws {
        let a = try await KeyFixture.make("ed25519")
        let b = try await KeyFixture.make("ed25519")
        let c = try await KeyFixture.make("ecdsa")
        let folder = try temporaryFolder()
        let file = "\(folder)/known_hosts"
        try "[h]:2022 \(a.publicKey)\n@revoked * \(c.publicKey)\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        let endpoint = Endpoint(host: "h", port: 2022)
        #expect(try KnownHosts.status(of: a.info, for: endpoint, files: [file]) == .matches)
        #expect(try KnownHosts.status(of: b.info, for: endpoint, files: [file])
            == .changed(recorded: a.info, at: "\(file):1"))
        #expect(try KnownHosts.status(of: c.info, for: endpoint, files: [file]) == .revoked)
        #expect(try KnownHosts.status(of: a.info, for: Endpoint(host: "h"), files: [file])
            == .unknown)
    }

    @Test("Known_hosts text from an environment variable is read like a file")
    func knownHostsFromEnvironment() async throws {
        let key = try await KeyFixture.make("ed25519")
        let text = "\u{FEFF}[127.0.0.1]:2222 \(key.publicKey)\r\nbad line\r\n"
        let policy = HostKeyPolicy(
            knownHostsFiles: [], knownHostsText: [("env:KNOWN_HOSTS", text)])
        let error = refusal {
            _ = try HostKeyVerifier(policy: policy, alias: "web1", endpoint: endpoint)
        }
        #expect(error?.code == .knownHostsInvalid)
        #expect(error?.message.hasPrefix("env:KNOWN_HOSTS:2: expected host names") == true)

        let good = HostKeyPolicy(
            knownHostsFiles: [], knownHostsText: [("env:KNOWN_HOSTS", String(text.prefix(
                while: { $0 != "\r\n" })) + "\r\n")])
        let check = try HostKeyVerifier(policy: good, alias: "web1", endpoint: endpoint)
        #expect(try check.verify(key.info) == .matchedKnownHosts(at: "env:KNOWN_HOSTS:1"))
    }
}
