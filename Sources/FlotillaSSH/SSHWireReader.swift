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
}
