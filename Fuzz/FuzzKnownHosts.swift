// A libFuzzer entry point for known_hosts text: random bytes go through the same path a
// known_hosts file or a KNOWN_HOSTS secret does (parsing, then looking a host up and checking
// a key against the entries). Whatever the input, the result is entries or an error naming
// the source and line, never a crash or a hang. Built and run by Fuzz/run.sh known_hosts.

import FoundationEssentials

/// A host key to check against whatever the input records (an ed25519 blob of zeros).
private let presented: [UInt8] = {
    let type = Array("ssh-ed25519".utf8)
    return [0, 0, 0, UInt8(type.count)] + type + [0, 0, 0, 32] + [UInt8](repeating: 0, count: 32)
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzKnownHosts(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)

    let file: KnownHostsFile
    do {
        file = try KnownHostsFile.parse(text, source: "fuzz")
    } catch {
        precondition(error.code == .knownHostsInvalid, "unexpected error code \(error.code)")
        precondition(error.message.hasPrefix("fuzz:"), "error without its line: \(error.message)")
        return 0
    }
    for entry in file.entries {
        precondition(SSHWireReader.keyType(ofBlob: entry.blob) == entry.keyType)
        precondition(entry.line >= 1)
        _ = entry.key
        _ = entry.applies(to: ["web-1", "[web-1]:2222", "10.0.0.1"])
        _ = entry.namesBareHost("web-1")
        // A plain entry written back the way `flotilla trust` writes one reads the same.
        // It goes on a second line: a byte order mark starting the text would be dropped.
        if case .patterns(let names) = entry.names, entry.marker == .none {
            let line = names.joined(separator: ",") + " " + entry.keyType + " "
                + Data(entry.blob).base64EncodedString()
            let again = try? KnownHostsFile.parse("# again\n" + line, source: "again")
            precondition(again?.entries.first?.blob == entry.blob, "rewritten entry differs")
            precondition(again?.entries.first?.names == entry.names, "rewritten names differ")
        }
    }

    // Look two endpoints up and check a key against what the input records.
    for endpoint in [Endpoint(host: "web-1", port: 2222), Endpoint(host: "web-1")] {
        let policy = HostKeyPolicy(knownHostsFiles: [], knownHostsText: [("fuzz", text)])
        guard let verifier = try? HostKeyVerifier(policy: policy, alias: "web", endpoint: endpoint)
        else { preconditionFailure("text that parsed once did not parse again") }
        _ = verifier.preferredAlgorithms(supported: ["ssh-ed25519", "ssh-rsa", "rsa-sha2-256"])
        let key = HostKeyInfo(
            type: "ssh-ed25519", fingerprint: sha256Fingerprint(presented), blob: presented)
        do {
            _ = try verifier.verify(key)
        } catch {
            let expected: Set<SSHError.Code> = [.hostKeyUnknown, .hostKeyChanged, .hostKeyRevoked]
            precondition(expected.contains(error.code), "unexpected error code \(error.code)")
        }
    }
    return 0
}
