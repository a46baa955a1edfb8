import Foundation
import Testing

@testable import FlotillaSSH

/// The base64 lines between a key's armor lines, and the armor lines themselves.
struct ArmoredKey {
    var begin: String
    var body: [String]
    var end: String

    init(_ text: String) {
        let lines = text.split(separator: "\n").map(String.init)
        begin = lines.first!
        body = Array(lines.dropFirst().dropLast())
        end = lines.last!
    }

    var text: String { ([begin] + body + [end]).joined(separator: "\n") + "\n" }

    var decoded: [UInt8] { [UInt8](Data(base64Encoded: body.joined())!) }

    /// The same armor around another body, wrapped at 70 columns as ssh-keygen does.
    func wrapping(_ bytes: [UInt8]) -> String {
        let base64 = Array(Data(bytes).base64EncodedString())
        let lines = stride(from: 0, to: base64.count, by: 70).map {
            String(base64[$0..<min($0 + 70, base64.count)])
        }
        return ([begin] + lines + [end]).joined(separator: "\n") + "\n"
    }
}

@Suite("Private keys under random damage")
struct PrivateKeyMutationTests {
    static let prefix = "cannot use the key from env:DEPLOY_KEY: "

    func loadError(_ text: String, source: String = "env:DEPLOY_KEY") -> SSHError? {
        do {
            _ = try PrivateKeyMaterial.parse(text, source: source, passphrase: nil)
            return nil
        } catch {
            return error
        }
    }

    @Test("A key file cut anywhere before the end of its END line is refused, naming the file",
          arguments: [("ed25519", nil), ("rsa", "PEM")] as [(String, String?)])
    func truncatedFiles(type: String, format: String?) async throws {
        let key = try await KeyFixture.make(type, format: format)
        let text = try String(contentsOfFile: key.privateKeyPath, encoding: .utf8)
        let armor = ArmoredKey(text)
        let label = String(armor.begin.dropFirst("-----BEGIN ".count).dropLast(5))
        let path = key.privateKeyPath + "-cut"
        // Every cut of a short key; every seventh of an RSA key, whose file is long.
        let step = text.count > 1000 ? 7 : 1
        for cut in stride(from: armor.begin.count, to: text.count - 1, by: step) {
            try String(text.prefix(cut)).write(toFile: path, atomically: false, encoding: .utf8)
            let error = refusalOfFile(path)
            #expect(error?.code == .keyInvalid)
            #expect(error?.message == "cannot use the key from \(path): it is cut short: it has "
                + "a -----BEGIN \(label)----- line but no -----END \(label)----- line; copy the "
                + "whole key, END line included", "cut at \(cut)")
        }
        try String(text.dropLast()).write(toFile: path, atomically: false, encoding: .utf8)
        #expect(refusalOfFile(path) == nil)
    }

    @Test("A key that lost lines of its body is refused, naming its source",
          arguments: [("ed25519", nil), ("rsa", "PEM"), ("ecdsa", "PKCS8")]
              as [(String, String?)])
    func missingBodyLines(type: String, format: String?) async throws {
        let key = try await KeyFixture.make(type, format: format)
        let armor = ArmoredKey(try String(contentsOfFile: key.privateKeyPath, encoding: .utf8))
        let label = String(armor.begin.dropFirst("-----BEGIN ".count).dropLast(5))
        #expect(loadError(armor.text) == nil)
        for first in armor.body.indices {
            for count in 1...2 where first + count <= armor.body.count {
                var damaged = armor
                damaged.body.removeSubrange(first..<first + count)
                let message = loadError(damaged.text)?.message
                // Whether what is left is still whole base64 depends on the line lengths.
                let expected = [
                    "its \(label) body is damaged or cut short",
                    "its \(label) body is not in OpenSSH key format",
                    "the text between its BEGIN and END lines is not valid base64; copy the key "
                        + "again",
                ].map { Self.prefix + $0 }
                #expect(message.map(expected.contains) == true,
                        "lines \(first)..<\(first + count) removed: \(message ?? "loaded")")
            }
        }
    }

    @Test("A length prefix in an OpenSSH key that claims more than the key holds is refused")
    func lengthPrefixes() async throws {
        let key = try await KeyFixture.make("ed25519")
        let armor = ArmoredKey(try String(contentsOfFile: key.privateKeyPath, encoding: .utf8))
        let body = armor.decoded
        let magic = "openssh-key-v1\0".utf8.count
        // cipher, kdf, kdf options, then the key count and the two key sections.
        var offsets = wireFieldOffsets(body, from: magic, count: 3)
        let options = offsets[2]
        let countOffset = options + 4 + Int(wireUInt32(at: options, in: body))
        offsets += [countOffset] + wireFieldOffsets(body, from: countOffset + 4)
        #expect(offsets.count == 6)
        for offset in offsets {
            for claimed in [0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF, UInt32(body.count)]
                as [UInt32]
            {
                var damaged = body
                damaged.replaceSubrange(offset..<offset + 4, with: wireUInt32(claimed))
                let error = loadError(armor.wrapping(damaged))
                #expect(error?.message
                    == Self.prefix + "its OPENSSH PRIVATE KEY body is damaged or cut short",
                    "field at \(offset) claiming \(claimed) bytes")
            }
        }
    }

    @Test("Thousands of damaged keys load or are refused naming their source, never their text")
    func randomDamage() async throws {
        var keys: [ArmoredKey] = []
        for (type, format) in [("ed25519", nil), ("ecdsa", "PKCS8"), ("rsa", "PEM")] {
            let key = try await KeyFixture.make(type, format: format)
            let text = try String(contentsOfFile: key.privateKeyPath, encoding: .utf8)
            keys.append(ArmoredKey(text))
        }
        let types = keys.map {
            try? PrivateKeyMaterial.parse($0.text, source: "k", passphrase: nil).keyType
        }
        #expect(types == ["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"])

        var mutator = InputMutator(seed: 0x4B45_5953)
        var loaded = 0
        var refused = 0
        for round in 0..<3000 {
            let key = keys[round % keys.count]
            // Damage to the text, or to the decoded body wrapped again in valid base64.
            let text = round % 2 == 0
                ? String(decoding: mutator.mutate(Array(key.text.utf8)), as: UTF8.self)
                : key.wrapping(mutator.mutate(key.decoded))
            do {
                let material = try PrivateKeyMaterial.parse(
                    text, source: "env:DEPLOY_KEY", passphrase: nil)
                loaded += 1
                #expect(material.pem.last == 10 && !material.pem.contains(13))
            } catch {
                refused += 1
                #expect(error.code == .keyInvalid)
                #expect(error.message.hasPrefix(Self.prefix), "\(error.message)")
                #expect(!quotesKeyText(error.message, of: key), "\(error.message)")
            }
        }
        #expect(loaded > 200 && refused > 2000, "loaded \(loaded), refused \(refused)")
    }

    private func refusalOfFile(_ path: String) -> SSHError? {
        do {
            _ = try PrivateKeyMaterial.load(.file(path: path, passphrase: nil))
            return nil
        } catch {
            return error
        }
    }

    /// Whether a message holds eight or more characters of the key's base64 in a row.
    private func quotesKeyText(_ message: String, of key: ArmoredKey) -> Bool {
        let body = key.body.joined()
        let characters = Array(message)
        guard characters.count >= 8 else { return false }
        return (0...(characters.count - 8)).contains {
            let piece = String(characters[$0..<$0 + 8])
            return piece.allSatisfy { $0.isLetter || $0.isNumber || "+/".contains($0) }
                && piece.contains(where: \.isLowercase) && body.contains(piece)
        }
    }
}
