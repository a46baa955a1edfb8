import Foundation
import Testing

@testable import FlotillaSSH

/// A key made by ssh-keygen in a private temporary folder.
struct KeyFixture {
    var privateKeyPath: String
    /// `type base64`, as in a known_hosts line.
    var publicKey: String
    var type: String
    var blob: [UInt8]

    var info: HostKeyInfo {
        HostKeyInfo(type: type, fingerprint: sha256Fingerprint(blob), blob: blob)
    }

    /// Makes a key: `ed25519`, `ecdsa`, `rsa`; `format` is ssh-keygen's `-m`.
    static func make(
        _ type: String, passphrase: String = "", format: String? = nil
    ) async throws -> KeyFixture {
        let folder = try temporaryFolder()
        let path = "\(folder)/id_\(type)"
        var arguments = ["-q", "-t", type, "-N", passphrase, "-C", "", "-f", path]
        if type == "rsa" { arguments += ["-b", "2048"] }
        if let format { arguments += ["-m", format] }
        let result = try await runProgram("/usr/bin/ssh-keygen", arguments)
        #expect(result.status == 0, "ssh-keygen: \(result.output)")
        let fields = try String(contentsOfFile: path + ".pub", encoding: .utf8)
            .split(separator: " ")
        let blob = [UInt8](Data(base64Encoded: String(fields[1]))!)
        return KeyFixture(
            privateKeyPath: path, publicKey: "\(fields[0]) \(fields[1])",
            type: String(fields[0]), blob: blob)
    }
}

struct ProgramOutput {
    var status: Int32
    var output: String
}

/// Runs a program on a thread of its own and waits for it without holding one of the
/// few threads Swift's concurrency pool has: other tests in the process need them.
func runProgram(_ path: String, _ arguments: [String]) async throws -> ProgramOutput {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: path)
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            process.standardInput = FileHandle.nullDevice
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
                return
            }
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            continuation.resume(returning: ProgramOutput(
                status: process.terminationStatus,
                output: String(decoding: data, as: UTF8.self)))
        }
    }
}

/// One folder per test process for generated keys and known_hosts files, removed when
/// the process exits, so runs leave nothing behind in the temporary folder.
private let fixtureRoot: String = {
    var base = NSTemporaryDirectory()
    while base.count > 1 && base.hasSuffix("/") { base.removeLast() }
    var template = Array("\(base)/flotilla-keys-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { return base }
    atexit { try? FileManager.default.removeItem(atPath: fixtureRoot) }
    return String(cString: made)
}()

/// A new private folder for one test.
func temporaryFolder() throws -> String {
    var template = Array("\(fixtureRoot)/XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
    return String(cString: made)
}

@Suite("Host key fingerprints")
struct HostKeyFingerprintTests {
    @Test("The SHA-256 fingerprint equals what ssh-keygen -lf prints", arguments: [
        "ed25519", "ecdsa", "rsa",
    ])
    func fingerprintMatchesSSHKeygen(type: String) async throws {
        let key = try await KeyFixture.make(type)
        let listed = try await runProgram(
            "/usr/bin/ssh-keygen", ["-lf", key.privateKeyPath + ".pub"])
        let expected = listed.output.split(separator: " ")[1]
        #expect(sha256Fingerprint(key.blob) == String(expected))
        #expect(!sha256Fingerprint(key.blob).hasSuffix("="))
    }

    @Test("A pinned fingerprint may be written with or without its prefix and padding")
    func pinnedFingerprintForms() {
        let canonical = "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
        #expect(KeyDigest.normalizedFingerprint(canonical) == canonical)
        #expect(KeyDigest.normalizedFingerprint(" " + canonical + "= ") == canonical)
        #expect(KeyDigest.normalizedFingerprint(String(canonical.dropFirst(7))) == canonical)
    }
}
