// What can be told about a private key from its decoded body without its passphrase: the
// key type and whether it is encrypted.

struct KeyDescription {
    var keyType: String?
    var isEncrypted: Bool
    /// The public key blob, which OpenSSH-format keys carry unencrypted.
    var publicKeyBlob: [UInt8]?

    init(
        label: String, der: [UInt8], headers: [String], invalid: (String) -> SSHError
    ) throws(SSHError) {
        let legacyEncrypted = headers.contains {
            $0.hasPrefix("Proc-Type:") && $0.contains("ENCRYPTED")
        }
        switch label {
        case "OPENSSH PRIVATE KEY":
            // openssh-key-v1: magic, cipher, kdf, kdf options, key count, public key blob.
            let magic = Array("openssh-key-v1\0".utf8)
            guard der.starts(with: magic) else {
                throw invalid("its OPENSSH PRIVATE KEY body is not in OpenSSH key format")
            }
            var reader = SSHWireReader(der, offset: magic.count)
            guard let cipher = reader.name(), reader.string() != nil, reader.string() != nil,
                let count = reader.uint32(), count >= 1, let publicKey = reader.string()
            else {
                throw invalid("its OPENSSH PRIVATE KEY body is damaged or cut short")
            }
            keyType = SSHWireReader.keyType(ofBlob: publicKey)
            isEncrypted = cipher != "none"
            publicKeyBlob = publicKey
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
