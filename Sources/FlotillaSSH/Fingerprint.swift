// Digests of key material through libcrypto: the SHA-256 fingerprints users compare with
// `ssh-keygen -lf`, and the HMAC-SHA1 behind hashed known_hosts names.

import FlotillaSupport
import FoundationEssentials
internal import CCrypto

/// `SHA256:` and the unpadded base64 of the SHA-256 of a key blob, as OpenSSH prints it.
public func sha256Fingerprint(_ blob: [UInt8]) -> String {
    var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    let ok = blob.withUnsafeBytes { bytes in
        EVP_Digest(bytes.baseAddress, bytes.count, &digest, &length, EVP_sha256(), nil)
    }
    // EVP_Digest with a built-in algorithm fails only when memory runs out.
    precondition(ok == 1, "EVP_Digest(SHA-256) failed")
    let encoded = Data(digest[0..<Int(length)]).base64EncodedString()
    return "SHA256:" + encoded.trimming { $0 == "=" }
}

enum KeyDigest {
    /// HMAC-SHA1 of `message` under `key`: OpenSSH hashes a known_hosts name as
    /// HMAC-SHA1(salt, name).
    static func hmacSHA1(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { messageBytes in
                HMAC(
                    EVP_sha1(), keyBytes.baseAddress, Int32(keyBytes.count),
                    messageBytes.baseAddress?.assumingMemoryBound(to: UInt8.self),
                    messageBytes.count, &digest, &length)
            }
        }
        precondition(result != nil, "HMAC(SHA-1) failed")
        return Array(digest[0..<Int(length)])
    }

    /// The fingerprint as users may write it: with or without `SHA256:`, with or without
    /// base64 padding.
    static func normalizedFingerprint(_ text: String) -> String {
        var value = text.trimmingBlanks()
        if value.uppercased().hasPrefix("SHA256:") { value = String(value.dropFirst(7)) }
        return "SHA256:" + value.trimming { $0 == "=" }
    }
}
