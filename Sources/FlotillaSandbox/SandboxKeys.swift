// Host keys and the fleet's client key, made with ssh-keygen.

import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum SandboxKeys {
    /// One key to generate: its type (`ed25519`, `ecdsa`, `rsa`) and private key path.
    struct Request: Sendable {
        var type: String
        var path: String
    }

    /// Generates every requested key without a passphrase. ssh-keygen runs as separate
    /// processes side by side, so twenty hosts cost about as much as one.
    static func generate(_ requests: [Request], log: String) throws(SandboxError) {
        var running: [(Request, ChildProcess)] = []
        var firstFailure: SandboxError?
        for request in requests {
            // ssh-keygen asks before overwriting; a fleet folder is reused between runs.
            unlink(request.path)
            unlink(request.path + ".pub")
            var arguments = ["-q", "-t", request.type, "-N", "", "-C", "", "-f", request.path]
            // 2048 bits keep generation quick; these keys never leave the machine.
            if request.type == "rsa" { arguments += ["-b", "2048"] }
            do {
                let child = try ChildProcess.spawn(
                    "/usr/bin/ssh-keygen", arguments, outputFile: log)
                running.append((request, child))
            } catch {
                firstFailure = firstFailure ?? error
            }
        }
        for (request, child) in running {
            let ending = child.waitForEnd()
            if ending != .exited(0) && firstFailure == nil {
                firstFailure = SandboxError(
                    "ssh-keygen could not make the \(request.type) key \(request.path) "
                        + "(\(ending)); see \(log)")
            }
        }
        if let firstFailure { throw firstFailure }
    }

    /// `type base64` of a public key file, without its comment.
    static func publicKey(_ privateKeyPath: String) throws(SandboxError) -> String {
        let fields = (TemporaryFile.read(privateKeyPath + ".pub") ?? "")
            .split(whereSeparator: \.isWhitespace)
        guard fields.count >= 2 else {
            throw SandboxError("the public key \(privateKeyPath).pub is missing or empty")
        }
        return "\(fields[0]) \(fields[1])"
    }
}
