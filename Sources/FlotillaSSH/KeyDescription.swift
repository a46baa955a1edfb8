// What can be told about a private key from its decoded body without its passphrase: the
// key type and whether it is encrypted.

struct KeyDescription {
    var keyType: String?
    var isEncrypted: Bool
    /// The public key blob, which OpenSSH-format keys carry unencrypted.
    var publicKeyBlob: [UInt8]?
    /// The 32-byte private seed of an unencrypted OpenSSH-format ed25519 key, which
    /// Flotilla signs with itself (see `Ed25519Signer`).
    var ed25519Seed: [UInt8]?

    init(
        label: String, der: [UInt8], headers: [String], invalid: (String) -> SSHError
    ) throws(SSHError) {
        let legacyEncrypted = headers.contains {
            $0.hasPrefix("Proc-Type:") && $0.contains("ENCRYPTED")
        }
        switch label {
        case "OPENSSH PRIVATE KEY":
            // openssh-key-v1: magic, cipher, kdf, kdf options, key count, the public key
            // blobs, then the (maybe encrypted) private section.
            let magic = Array("openssh-key-v1\0".utf8)
            guard der.starts(with: magic) else {
                throw invalid("its OPENSSH PRIVATE KEY body is not in OpenSSH key format")
            }
            var reader = SSHWireReader(der, offset: magic.count)
            guard let cipher = reader.name(), reader.string() != nil, reader.string() != nil,
                let count = reader.uint32(), count >= 1, let publicKey = reader.string(),
                Self.skipping(count - 1, in: &reader), let privateSection = reader.string()
            else {
                // A body that lost a line still decodes; its private section is then short.
                throw invalid("its OPENSSH PRIVATE KEY body is damaged or cut short")
            }
            keyType = SSHWireReader.keyType(ofBlob: publicKey)
            isEncrypted = cipher != "none"
            publicKeyBlob = publicKey
            if !isEncrypted, count == 1, keyType == "ssh-ed25519" {
                ed25519Seed = Self.ed25519Seed(privateSection, publicKey: publicKey)
            }
        case "RSA PRIVATE KEY":
            keyType = "ssh-rsa"
            isEncrypted = legacyEncrypted
        case "DSA PRIVATE KEY":
            keyType = "ssh-dss"
            isEncrypted = legacyEncrypted
        case "EC PRIVATE KEY":
            keyType = Self.ecdsaType(der)
            isEncrypted = legacyEncrypted
        case "PRIVATE KEY":
            keyType = Self.pkcs8Type(der)
            isEncrypted = false
        case "ENCRYPTED PRIVATE KEY":
            keyType = nil
            isEncrypted = true
        default:
            keyType = nil
            isEncrypted = legacyEncrypted
        }

        // PKCS#1, SEC 1 and PKCS#8 bodies are one DER sequence; a body that lost a line
        // still decodes as base64, but its sequence no longer fits it. Legacy encrypted
        // bodies are ciphertext and cannot be told.
        let derLabels = [
            "RSA PRIVATE KEY", "DSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
        ]
        if derLabels.contains(label), !legacyEncrypted, !Self.isOneSequence(der) {
            throw invalid("its \(label) body is damaged or cut short")
        }
    }

    /// Whether `der` is a DER SEQUENCE whose length covers it exactly. An indefinite
    /// length (BER) is let through: its end cannot be told without parsing it all.
    private static func isOneSequence(_ der: [UInt8]) -> Bool {
        guard der.count >= 2, der[0] == 0x30 else { return false }
        let first = Int(der[1])
        if first < 0x80 { return 2 + first == der.count }
        let octets = first & 0x7F
        if octets == 0 { return true }
        guard octets <= 4, der.count >= 2 + octets else { return false }
        let length = der[2..<2 + octets].reduce(0) { $0 << 8 | Int($1) }
        return 2 + octets + length == der.count
    }

    /// The seed of an unencrypted ed25519 private section: two equal check numbers, the key
    /// type, the 32-byte public key, 64 bytes of seed and public key, a comment. Nil when
    /// anything does not fit (libssh2 then reads the key itself).
    private static func ed25519Seed(_ section: [UInt8], publicKey: [UInt8]) -> [UInt8]? {
        var reader = SSHWireReader(section, offset: 0)
        guard let check = reader.uint32(), reader.uint32() == check,
            reader.name() == "ssh-ed25519", let point = reader.string(), point.count == 32,
            let secret = reader.string(), secret.count == 64,
            secret[32...].elementsEqual(point), publicKey.suffix(32).elementsEqual(point)
        else { return nil }
        return Array(secret[..<32])
    }

    /// Reads past `count` more public key blobs; false when the body ends first.
    private static func skipping(_ count: UInt32, in reader: inout SSHWireReader) -> Bool {
        for _ in 0..<count {
            guard reader.string() != nil else { return false }
        }
        return true
    }

    // DER encodings of the object identifiers that name key algorithms and curves.
    private static let rsaEncryption: [UInt8] = [
        0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01,
    ]
    private static let ecPublicKey: [UInt8] = [0x06, 0x07, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x02, 0x01]
    private static let ed25519: [UInt8] = [0x06, 0x03, 0x2B, 0x65, 0x70]
    private static let curves: [(oid: [UInt8], type: String)] = [
        ([0x06, 0x08, 0x2A, 0x86, 0x48, 0xCE, 0x3D, 0x03, 0x01, 0x07], "ecdsa-sha2-nistp256"),
        ([0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x22], "ecdsa-sha2-nistp384"),
        ([0x06, 0x05, 0x2B, 0x81, 0x04, 0x00, 0x23], "ecdsa-sha2-nistp521"),
    ]

    private static func ecdsaType(_ der: [UInt8]) -> String? {
        curves.first { contains(der, $0.oid) }?.type
    }

    private static func pkcs8Type(_ der: [UInt8]) -> String? {
        if contains(der, rsaEncryption) { return "ssh-rsa" }
        if contains(der, ed25519) { return "ssh-ed25519" }
        if contains(der, ecPublicKey) { return ecdsaType(der) }
        return nil
    }

    private static func contains(_ bytes: [UInt8], _ pattern: [UInt8]) -> Bool {
        guard bytes.count >= pattern.count else { return false }
        return (0...(bytes.count - pattern.count)).contains {
            bytes[$0..<($0 + pattern.count)].elementsEqual(pattern)
        }
    }
}
