// A libFuzzer entry point for private keys: random bytes go through the path key text from a
// file or a CI secret takes (normalising, the PEM armor, base64, the OpenSSH and DER bodies),
// and, raw, through the readers of the decoded body. Whatever the input, the result is key
// material or an error naming the source, never a crash or a hang. Built and run by
// Fuzz/run.sh keys.

import FoundationEssentials

private let labels = [
    "OPENSSH PRIVATE KEY", "RSA PRIVATE KEY", "DSA PRIVATE KEY", "EC PRIVATE KEY",
    "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "SOMETHING ELSE",
]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPrivateKeys(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let raw = [UInt8](UnsafeBufferPointer(start: bytes, count: count))
    let text = String(decoding: raw, as: UTF8.self)

    // The text path, with and without a passphrase.
    for passphrase in [nil, "fuzzing"] as [String?] {
        do {
            let material = try PrivateKeyMaterial.parse(
                text, source: "env:FUZZ_KEY", passphrase: passphrase)
            check(material)
        } catch {
            precondition(error.code == .keyInvalid, "unexpected error code \(error.code)")
            precondition(
                error.message.hasPrefix("cannot use the key from env:FUZZ_KEY: "),
                "error without its source: \(error.message)")
            precondition(!quotesKeyText(error.message), "key text in: \(error.message)")
        }
    }

    // The decoded body as it would come out of base64, under every label.
    let invalid: (String) -> SSHError = { SSHError(.keyInvalid, message: $0) }
    for label in labels {
        _ = try? KeyDescription(label: label, der: raw, headers: [], invalid: invalid)
        let magic = Array("openssh-key-v1\0".utf8)
        _ = try? KeyDescription(label: label, der: magic + raw, headers: [], invalid: invalid)
    }
    var reader = SSHWireReader(raw)
    while reader.string() != nil {}
    _ = SSHWireReader.keyType(ofBlob: raw)
    if let armor = PEMArmor(text) {
        _ = armor.body()
        _ = armor.restoringLineBreaks()
    }
    return 0
}

/// Whether a message holds a run of 16 or more base64 characters with a lower-case letter,
/// `+` or `/` among them: no text of the loader's own has one, and a PEM label (upper case
/// and digits) cannot be one, so such a run can only be a piece of the key.
private func quotesKeyText(_ message: String) -> Bool {
    var run = 0
    var mixed = false
    for byte in message.utf8 {
        let lower = (byte >= 0x61 && byte <= 0x7A) || byte == 0x2B || byte == 0x2F
        let other = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x30 && byte <= 0x39)
            || byte == 0x3D
        guard lower || other else {
            run = 0
            mixed = false
            continue
        }
        run += 1
        mixed = mixed || lower
        if run >= 16 && mixed { return true }
    }
    return false
}

/// What a loaded key promises: normalised text that loads again to the same key.
private func check(_ material: PrivateKeyMaterial) {
    let pem = String(decoding: material.pem, as: UTF8.self)
    precondition(pem.hasSuffix("\n") && !pem.contains("\r"), "key text not normalised")
    let again: PrivateKeyMaterial
    do {
        again = try PrivateKeyMaterial.parse(pem, source: "again", passphrase: material.passphrase)
    } catch {
        preconditionFailure("a loaded key's own text does not load: \(error.message)")
    }
    precondition(again.pem == material.pem, "normalising twice changed the key text")
    precondition(again.keyType == material.keyType, "the key type changed on reloading")
    precondition(again.publicKeyBlob == material.publicKeyBlob, "the public key changed")
}
