import Foundation
import Testing

@testable import FlotillaSSH

@Suite("Private key loading")
struct PrivateKeyLoadingTests {
    func text(_ key: KeyFixture) throws -> String {
        try String(contentsOfFile: key.privateKeyPath, encoding: .utf8)
    }

    func refusal(_ identity: Identity) -> SSHError? {
        do {
            _ = try PrivateKeyMaterial.load(identity)
            return nil
        } catch {
            return error
        }
    }

    @Test("An ed25519 key file loads unchanged, with its type and public key")
    func plainFile() async throws {
        let key = try await KeyFixture.make("ed25519")
        let material = try PrivateKeyMaterial.load(
            .file(path: key.privateKeyPath, passphrase: nil))
        #expect(material.pem == Array(try text(key).utf8))
        #expect(material.keyType == "ssh-ed25519")
        #expect(material.notice == nil)
        #expect(material.source == key.privateKeyPath)
        #expect(material.publicKeyBlob.map(sha256Fingerprint) == key.info.fingerprint)
    }

    /// An unencrypted ed25519 key is signed with by Flotilla itself (its seed is read once);
    /// an encrypted one and other key types are left to libssh2. That the signatures are
    /// right is proven by every connection to a sandbox host, which all use ed25519 keys.
    @Test("An unencrypted ed25519 key gets Flotilla's own signer; others are left to libssh2")
    func ed25519Signer() async throws {
        let plain = try PrivateKeyMaterial.load(
            .file(path: try await KeyFixture.make("ed25519").privateKeyPath, passphrase: nil))
        #expect(plain.ed25519Seed?.count == 32)
        let signer = try #require(Ed25519Signer.forKey(plain))
        #expect(signer.publicKeyBlob == plain.publicKeyBlob)
        let signature = Array("data".utf8).withUnsafeBufferPointer { signer.sign($0) }
        #expect(signature?.count == 64)

        let locked = try PrivateKeyMaterial.load(
            .file(
                path: try await KeyFixture.make("ed25519", passphrase: "s3cret").privateKeyPath,
                passphrase: "s3cret"))
        #expect(locked.ed25519Seed == nil && Ed25519Signer.forKey(locked) == nil)
        let ecdsa = try PrivateKeyMaterial.load(
            .file(path: try await KeyFixture.make("ecdsa").privateKeyPath, passphrase: nil))
        #expect(ecdsa.ed25519Seed == nil && Ed25519Signer.forKey(ecdsa) == nil)
    }

    @Test("R01: CRLF endings and a byte order mark are normalised to the same key")
    func crlfAndBOM() async throws {
        let key = try await KeyFixture.make("ed25519")
        let original = try text(key)
        let damaged = "\u{FEFF}" + original.replacingOccurrences(of: "\n", with: "\r\n")
        let material = try PrivateKeyMaterial.load(
            .text(source: "env:DEPLOY_KEY", key: damaged, passphrase: nil))
        #expect(material.pem == Array(original.utf8))
        #expect(material.publicKeyBlob.map(sha256Fingerprint) == key.info.fingerprint)
        #expect(material.notice
            == "key from env:DEPLOY_KEY: removed a byte order mark, converted CRLF line endings")
    }

    @Test("Surrounding whitespace is trimmed and a missing final newline added")
    func whitespace() async throws {
        let key = try await KeyFixture.make("ed25519")
        let original = try text(key)
        let padded = try PrivateKeyMaterial.load(
            .text(source: "env:K", key: "\n  " + original + "\n\n", passphrase: nil))
        #expect(padded.pem == Array(original.utf8))
        #expect(padded.notice == "key from env:K: trimmed surrounding whitespace")
        let unterminated = try PrivateKeyMaterial.load(
            .text(source: "env:K", key: String(original.dropLast()), passphrase: nil))
        #expect(unterminated.pem == Array(original.utf8))
        #expect(unterminated.notice == "key from env:K: added the missing final newline")
    }

    @Test("A key whose line breaks became spaces is restored")
    func spacesForLineBreaks() async throws {
        let key = try await KeyFixture.make("ed25519")
        let original = try text(key)
        let oneLine = original.trimmingCharacters(in: .newlines)
            .replacingOccurrences(of: "\n", with: " ")
        let material = try PrivateKeyMaterial.load(
            .text(source: "env:K", key: oneLine, passphrase: nil))
        #expect(material.pem == Array(original.utf8))
        #expect(material.notice == "key from env:K: added the missing final newline, "
            + "restored line breaks that had become spaces")
    }

    @Test("Literal \\n sequences from a quoted variable become line breaks")
    func literalNewlines() async throws {
        let key = try await KeyFixture.make("ed25519")
        let original = try text(key)
        let escaped = original.replacingOccurrences(of: "\n", with: "\\n")
        let material = try PrivateKeyMaterial.load(
            .text(source: "env:K", key: escaped, passphrase: nil))
        #expect(material.pem == Array(original.utf8))
    }

    @Test("PEM keys are recognised by type", arguments: [
        ("rsa", "PEM", "ssh-rsa"), ("ecdsa", "PEM", "ecdsa-sha2-nistp256"),
        ("ecdsa", "PKCS8", "ecdsa-sha2-nistp256"), ("rsa", "PKCS8", "ssh-rsa"),
    ])
    func pemTypes(type: String, format: String, expected: String) async throws {
        let key = try await KeyFixture.make(type, format: format)
        let material = try PrivateKeyMaterial.load(
            .file(path: key.privateKeyPath, passphrase: nil))
        #expect(material.keyType == expected)
        #expect(!material.isEncrypted)
    }

    @Test("What is wrong with a key is named, with its source and never its content",
        arguments: [
            ("empty", "it is empty; it should hold a private key starting with "
                + "-----BEGIN OPENSSH PRIVATE KEY-----"),
            ("public", "it holds a public key (ssh-ed25519), not a private one; give the "
                + "private key (usually the same file name without .pub)"),
            ("glued public", "it holds a public key (ssh-ed25519), not a private one; give "
                + "the private key (usually the same file name without .pub)"),
            ("putty", "it is a PuTTY key (.ppk); convert it with "
                + "`puttygen KEY.ppk -O private-openssh -o id_key` and use that file"),
            ("truncated", "it is cut short: it has a -----BEGIN OPENSSH PRIVATE KEY----- "
                + "line but no -----END OPENSSH PRIVATE KEY----- line; copy the whole key, "
                + "END line included"),
            ("garbage", "it does not look like a private key (no -----BEGIN … PRIVATE KEY----- "
                + "line)"),
            ("damaged", "the text between its BEGIN and END lines is not valid base64; copy "
                + "the key again"),
        ])
    func recognisedMistakes(kind: String, problem: String) async throws {
        let key = try await KeyFixture.make("ed25519")
        let original = try text(key)
        let lines = original.split(separator: "\n")
        let value: String
        switch kind {
        case "empty": value = "  \r\n"
        case "public": value = key.publicKey + "\n"
        case "glued public": value = key.publicKey.replacingOccurrences(of: " ", with: "")
        case "putty": value = "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n"
        case "truncated": value = lines.dropLast().joined(separator: "\n")
        case "garbage": value = "not a key at all"
        default: value = [lines[0], "@@@@", lines.last!].joined(separator: "\n")
        }
        let error = refusal(.text(source: "env:DEPLOY_KEY", key: value, passphrase: nil))
        #expect(error?.code == .keyInvalid)
        #expect(error?.message == "cannot use the key from env:DEPLOY_KEY: \(problem)")
        for line in lines.dropFirst().dropLast() {
            #expect(!(error?.description.contains(line) ?? true))
        }
    }

    @Test("An encrypted key needs a passphrase and loads with one", arguments: ["", "PEM"])
    func encryptedKey(format: String) async throws {
        let key = try await KeyFixture.make(
            format.isEmpty ? "ed25519" : "rsa", passphrase: "correct horse",
            format: format.isEmpty ? nil : format)
        let error = refusal(.file(path: key.privateKeyPath, passphrase: nil))
        #expect(error?.message == "cannot use the key from \(key.privateKeyPath): it is "
            + "encrypted and needs a passphrase; set `passphrase:` for this host (for example "
            + "env:DEPLOY_KEY_PASSPHRASE)")
        let material = try PrivateKeyMaterial.load(
            .file(path: key.privateKeyPath, passphrase: "correct horse"))
        #expect(material.isEncrypted)
        #expect(material.passphrase == "correct horse")
    }

    @Test("A missing identity file is named")
    func missingFile() {
        let error = refusal(.file(path: "/nonexistent/id_ed25519", passphrase: nil))
        #expect(error?.code == .keyInvalid)
        #expect(error?.message
            == "the identity file /nonexistent/id_ed25519 does not exist; check `identity:`")
    }
}
