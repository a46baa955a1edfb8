// Reading the SSH wire encoding (RFC 4251 §5) found in key blobs and OpenSSH private key
// files: big-endian uint32 lengths followed by bytes.

struct SSHWireReader {
    private let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    mutating func uint32() -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        let value = bytes[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        offset += 4
        return value
    }

    /// A length-prefixed byte string.
    mutating func string() -> [UInt8]? {
        guard let length = uint32().map(Int.init), length <= bytes.count - offset else {
            return nil
        }
        defer { offset += length }
        return Array(bytes[offset..<offset + length])
    }

    /// A length-prefixed string that must be printable ASCII (an algorithm name).
    mutating func name() -> String? {
        guard let raw = string(), !raw.isEmpty, raw.allSatisfy({ $0 > 0x20 && $0 < 0x7f })
        else { return nil }
        return String(decoding: raw, as: UTF8.self)
    }

    /// The key type a public key blob names in its first field (`ssh-ed25519`, …).
    static func keyType(ofBlob blob: [UInt8]) -> String? {
        var reader = SSHWireReader(blob)
        return reader.name()
    }

    /// How many length-prefixed fields a public key blob of each type has, its name
    /// included (RFC 4253 §6.6, RFC 5656 §3.1, RFC 8709 §4, OpenSSH's PROTOCOL.u2f).
    private static let fieldCounts: [String: Int] = [
        "ssh-ed25519": 2, "ssh-rsa": 3, "ssh-dss": 5,
        "ecdsa-sha2-nistp256": 3, "ecdsa-sha2-nistp384": 3, "ecdsa-sha2-nistp521": 3,
        "sk-ssh-ed25519@openssh.com": 3, "sk-ecdsa-sha2-nistp256@openssh.com": 4,
    ]

    /// The public key types whose blobs are checked field by field.
    static var publicKeyTypes: Set<String> { Set(fieldCounts.keys) }

    /// Whether a public key blob of a known type has all its fields and nothing after them:
    /// a blob cut at a base64 boundary still names its type, and must not pass for a key.
    /// Blobs of other types (certificates) are left to libssh2.
    static func isComplete(publicKeyBlob blob: [UInt8]) -> Bool {
        var reader = SSHWireReader(blob)
        guard let type = reader.name() else { return false }
        guard let count = fieldCounts[type] else { return true }
        for _ in 1..<count {
            guard reader.string() != nil else { return false }
        }
        return reader.offset == blob.count
    }
}
