import Foundation
import Testing

@testable import FlotillaSSH

/// A known_hosts text with a line of every form, and what it records.
struct KnownHostsSample {
    var text: String
    /// Line number and key blob of each entry, in order.
    var entries: [(line: Int, blob: [UInt8])]
    var keys: [KeyFixture]

    static func make() async throws -> KnownHostsSample {
        let ed = try await KeyFixture.make("ed25519")
        let ec = try await KeyFixture.make("ecdsa")
        let rsa = try await KeyFixture.make("rsa")
        let salt: [UInt8] = Array(0..<20)
        let hash = KeyDigest.hmacSHA1(key: salt, message: Array("web-2".utf8))
        let hashed = "|1|\(Data(salt).base64EncodedString())|\(Data(hash).base64EncodedString())"
        let text = [
            "# the fleet",
            "web-1,10.0.0.1 \(ed.publicKey)",
            "[web-1]:2222 \(ec.publicKey) added by hand",
            "*.example.org,!db.example.org\t\(rsa.publicKey)",
            "@revoked old-web \(ec.publicKey)",
            "@cert-authority *.example.com \(ed.publicKey)",
            "\(hashed) \(ed.publicKey)",
        ].joined(separator: "\n") + "\n"
        return KnownHostsSample(
            text: text,
            entries: [(2, ed.blob), (3, ec.blob), (4, rsa.blob), (5, ec.blob), (6, ed.blob),
                      (7, ed.blob)],
            keys: [ed, ec, rsa])
    }
}

@Suite("known_hosts under random damage")
struct KnownHostsMutationTests {
    static let lineHint = "; fix or delete that line "
        + "(each line is `[marker] host[,host…] key-type base64-key [comment]`)"

    @Test("Valid lines of every form parse to their keys")
    func validLines() async throws {
        let sample = try await KnownHostsSample.make()
        let file = try KnownHostsFile.parse(sample.text, source: "fixture")
        #expect(file.entries.map(\.line) == sample.entries.map(\.line))
        #expect(file.entries.map(\.blob) == sample.entries.map(\.blob))
        #expect(file.entries.map(\.marker)
            == [.none, .none, .none, .revoked, .certificateAuthority, .none])
        #expect(file.entries[5].applies(to: ["web-2"]) && !file.entries[5].applies(to: ["web-3"]))
    }

    @Test("A line cut anywhere before the end of its key is refused at that line",
          arguments: ["ed25519", "ecdsa", "rsa"])
    func truncatedLines(type: String) async throws {
        let key = try await KeyFixture.make(type)
        let other = try await KeyFixture.make("ed25519")
        let line = "web-1 \(key.publicKey) a comment"
        let keyEnd = "web-1 ".count + key.publicKey.count
        for cut in 1...line.count {
            let text = "web-0 \(other.publicKey)\n" + line.prefix(cut)
            do {
                let file = try KnownHostsFile.parse(text, source: "fixture")
                #expect(cut >= keyEnd, "cut at \(cut) was read as a key")
                #expect(file.entries.last?.blob == key.blob, "cut at \(cut)")
            } catch {
                #expect(cut < keyEnd, "cut at \(cut): \(error.message)")
                #expect(error.code == .knownHostsInvalid)
                #expect(error.message.hasPrefix("fixture:2: "), "\(error.message)")
            }
        }
    }

    @Test("A length prefix that disagrees with the key is refused, naming the line",
          arguments: ["ed25519", "ecdsa", "rsa"])
    func lengthPrefixes(type: String) async throws {
        let key = try await KeyFixture.make(type)
        let fields = wireFieldOffsets(key.blob)
        #expect(fields.count == (type == "ed25519" ? 2 : 3))
        for (index, offset) in fields.enumerated() {
            let remaining = UInt32(key.blob.count - offset - 4)
            for claimed in [0xFFFF_FFFF, 0x8000_0000, 0x7FFF_FFFF, remaining + 1, 0] as [UInt32] {
                var blob = key.blob
                blob.replaceSubrange(offset..<offset + 4, with: wireUInt32(claimed))
                let text = "h \(key.type) \(Data(blob).base64EncodedString())"
                let problem = index == 0
                    ? "the \(key.type) key is not an SSH public key blob"
                    : "the \(key.type) key is cut short or damaged"
                #expect(message(of: text) == "fixture:1: \(problem)" + Self.lineHint,
                        "field \(index) claiming \(claimed) bytes")
            }
        }
        let padded = "h \(key.type) \(Data(key.blob + [0, 0, 0, 0]).base64EncodedString())"
        #expect(message(of: padded)
            == "fixture:1: the \(key.type) key is cut short or damaged" + Self.lineHint)
    }

    @Test("Thousands of damaged and random files end in entries or an error naming a line")
    func randomDamage() async throws {
        let sample = try await KnownHostsSample.make()
        var mutator = InputMutator(seed: 0x4B4E_4F57)
        var parsed = 0
        var refused = 0
        for round in 0..<4000 {
            let bytes = round < 3000
                ? mutator.mutate(Array(sample.text.utf8))
                : (0..<mutator.int(0...300)).map { _ in mutator.pick(Self.randomAlphabet) }
            let text = String(decoding: bytes, as: UTF8.self)
            let lineCount = bytes.filter { $0 == 10 }.count + 1
            do {
                let file = try KnownHostsFile.parse(text, source: "fixture")
                parsed += 1
                let lines = file.entries.map(\.line)
                #expect(lines == lines.sorted() && Set(lines).count == lines.count)
                #expect(lines.allSatisfy { (1...lineCount).contains($0) })
                for entry in file.entries {
                    #expect(SSHWireReader.keyType(ofBlob: entry.blob) == entry.keyType)
                    #expect(SSHWireReader.isComplete(publicKeyBlob: entry.blob))
                }
            } catch {
                refused += 1
                #expect(error.code == .knownHostsInvalid)
                let line = error.message.firstMatch(of: #/^fixture:(\d+): /#).flatMap { Int($0.1) }
                #expect(line.map { (1...lineCount).contains($0) } == true, "\(error.message)")
                #expect(error.message.hasSuffix(Self.lineHint))
            }
        }
        // Both ends were reached: damage is often harmless (a comment) and often fatal.
        #expect(parsed > 150 && refused > 3000, "parsed \(parsed), refused \(refused)")
    }

    /// Bytes random known_hosts text is made of: mostly the characters of real lines.
    static let randomAlphabet: [UInt8] = Array(
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 @revoked |1| [h]:22 *?!,#\t\r\n\n\n".utf8)
        + [0, 0xFF, 0xC3, 0xEF, 0xBB, 0xBF]

    private func message(of text: String) -> String? {
        do {
            _ = try KnownHostsFile.parse(text, source: "fixture")
            return nil
        } catch {
            return error.message
        }
    }
}
