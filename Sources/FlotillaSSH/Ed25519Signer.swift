// Signs the publickey authentication request of an ed25519 key with a key object made once
// per run. Handing libssh2 the key text instead makes OpenSSL 3 try its whole chain of key
// decoders for every host, which costs several milliseconds of CPU per connection.

internal import CCrypto
internal import CLibSSH2
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

final class Ed25519Signer: @unchecked Sendable {
    /// The public key blob libssh2 offers (`ssh-ed25519` and the 32-byte point).
    let publicKeyBlob: [UInt8]
    private let key: OpaquePointer

    private init?(seed: [UInt8], publicKeyBlob: [UInt8]) {
        guard seed.count == 32,
            let key = seed.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32)
            })
        else { return nil }
        self.key = key
        self.publicKeyBlob = publicKeyBlob
    }

    deinit { EVP_PKEY_free(key) }

    /// One signer per key for the whole run.
    private static let made = Mutex<[[UInt8]: Ed25519Signer]>([:])

    static func forKey(_ material: PrivateKeyMaterial) -> Ed25519Signer? {
        guard let seed = material.ed25519Seed, let blob = material.publicKeyBlob else {
            return nil
        }
        return made.withLock { made in
            if let known = made[blob] { return known }
            let signer = Ed25519Signer(seed: seed, publicKeyBlob: blob)
            made[blob] = signer
            return signer
        }
    }

    /// The raw 64-byte signature of `data`, or nil when OpenSSL refuses.
    func sign(_ data: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard let context = EVP_MD_CTX_new() else { return nil }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, nil, nil, key) == 1 else { return nil }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = 64
        let rc = signature.withUnsafeMutableBufferPointer {
            EVP_DigestSign(context, $0.baseAddress, &length, data.baseAddress, data.count)
        }
        return rc == 1 && length == 64 ? signature : nil
    }

    /// libssh2's signing callback: `abstract` points at the signer. The signature is handed
    /// over in memory from `malloc`, which libssh2 frees.
    static let callback: @convention(c) (
        OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?,
        UnsafeMutablePointer<Int>?, UnsafePointer<UInt8>?, Int,
        UnsafeMutablePointer<UnsafeMutableRawPointer?>?
    ) -> Int32 = { _, signatureOut, lengthOut, data, dataLength, abstract in
        guard let pointer = abstract?.pointee, let signatureOut, let lengthOut, let data else {
            return -1
        }
        let signer = Unmanaged<Ed25519Signer>.fromOpaque(pointer).takeUnretainedValue()
        guard let signature = signer.sign(UnsafeBufferPointer(start: data, count: dataLength)),
            let buffer = malloc(signature.count)?.assumingMemoryBound(to: UInt8.self)
        else { return -1 }
        buffer.update(from: signature, count: signature.count)
        signatureOut.pointee = buffer
        lengthOut.pointee = signature.count
        return 0
    }
}
