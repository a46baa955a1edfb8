// Private keys from files and from text (CI secrets): normalised the way such text gets
// damaged in transit (R01), and recognised when it is not a usable private key, so the
// user hears what is wrong before any host is contacted. Messages name the source, never
// the content.

import FlotillaSupport
import FoundationEssentials

/// A private key ready for libssh2: normalised text (LF endings, no BOM, final newline).
struct PrivateKeyMaterial: Sendable {
    /// The key text in PEM or OpenSSH form.
    var pem: [UInt8]
    var passphrase: String?
    /// `env:NAME` or the file path; never the key itself.
    var source: String
    /// `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, … when it can be told.
    var keyType: String?
    /// One line for the log when normalising changed something ("converted CRLF line endings").
    var notice: String?
    /// The key is protected by a passphrase.
    var isEncrypted: Bool = false
    /// The public half, when the key format carries it (OpenSSH format does).
    var publicKeyBlob: [UInt8]? = nil
    /// The private seed of an unencrypted OpenSSH ed25519 key.
    var ed25519Seed: [UInt8]? = nil

    /// Loads and checks a key file or key text. Public keys, PuTTY keys, keys whose line
    /// breaks became spaces and truncated keys are recognised and named in the error.
    static func load(_ identity: Identity) throws(SSHError) -> PrivateKeyMaterial {
        switch identity {
        case .file(let path, let passphrase):
            let text = try readKeyFile(HostKeyVerifier.expandingHome(path))
            return try parse(text, source: path, passphrase: passphrase)
        case .text(let source, let key, let passphrase):
            return try parse(key, source: source, passphrase: passphrase)
        case .agent:
            throw SSHError(
                .keyInvalid,
                message: "ssh-agent keys stay in the agent and are not loaded as key text")
        }
    }

    /// Normalises and checks key text from `source`.
    static func parse(_ text: String, source: String, passphrase: String?)
        throws(SSHError) -> PrivateKeyMaterial
    {
        func invalid(_ problem: String) -> SSHError {
            SSHError(.keyInvalid, message: "cannot use the key from \(source): \(problem)")
        }

        var (normalised, changes) = normalise(text)
        if normalised.isEmpty {
            throw invalid(
                "it is empty; it should hold a private key starting with "
                    + "-----BEGIN OPENSSH PRIVATE KEY-----")
        }
        if normalised.hasPrefix("PuTTY-User-Key-File-") {
            throw invalid(
                "it is a PuTTY key (.ppk); convert it with "
                    + "`puttygen KEY.ppk -O private-openssh -o id_key` and use that file")
        }
        if let kind = publicKeyKind(normalised) {
            throw invalid(
                "it holds a public key (\(kind)), not a private one; give the private key "
                    + "(usually the same file name without .pub)")
        }

        guard let armor = PEMArmor(normalised) else {
            throw invalid(
                "it does not look like a private key (no -----BEGIN … PRIVATE KEY----- line)")
        }
        guard armor.label.hasSuffix("PRIVATE KEY") else {
            throw invalid("it holds a \(armor.label), not a private key")
        }
        if armor.isOnOneLine {
            guard let repaired = armor.restoringLineBreaks() else {
                throw invalid(
                    "its line breaks became spaces and its headers cannot be restored; "
                        + "store the key with its line breaks (for example with "
                        + "`cat KEY | base64` and decode it where it is used)")
            }
            normalised = repaired
            changes.append("restored line breaks that had become spaces")
        }
        guard let body = PEMArmor(normalised)?.body() else {
            throw invalid(
                "it is cut short: it has a -----BEGIN \(armor.label)----- line but no "
                    + "-----END \(armor.label)----- line; copy the whole key, END line included")
        }
        guard let der = Data(base64Encoded: body.base64), !der.isEmpty else {
            throw invalid(
                "the text between its BEGIN and END lines is not valid base64; copy the key "
                    + "again")
        }

        let description = try KeyDescription(
            label: armor.label, der: [UInt8](der), headers: body.headers, invalid: invalid)
        if description.isEncrypted && (passphrase ?? "").isEmpty {
            throw invalid(
                "it is encrypted and needs a passphrase; set `passphrase:` for this host "
                    + "(for example env:DEPLOY_KEY_PASSPHRASE)")
        }
        return PrivateKeyMaterial(
            pem: Array(normalised.utf8), passphrase: passphrase, source: source,
            keyType: description.keyType,
            notice: changes.isEmpty
                ? nil : "key from \(source): " + changes.joined(separator: ", "),
            isEncrypted: description.isEncrypted, publicKeyBlob: description.publicKeyBlob,
            ed25519Seed: description.ed25519Seed)
    }

    private static func readKeyFile(_ path: String) throws(SSHError) -> String {
        var isFolder = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw SSHError(
                .keyInvalid,
                message: "the identity file \(path) does not exist; check `identity:`")
        }
        guard !isFolder, let data = FileManager.default.contents(atPath: path) else {
            throw SSHError(
                .keyInvalid,
                message: "cannot read the identity file \(path)"
                    + (isFolder ? ": it is a folder" : "; check its permissions"))
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Strips a byte order mark, turns CRLF (and lone CR, and literal `\n`) into LF, trims
    /// surrounding whitespace and ends with one newline. Returns what it changed.
    static func normalise(_ text: String) -> (text: String, changes: [String]) {
        var changes: [String] = []
        var value = text
        if value.hasPrefix("\u{FEFF}") {
            value.removeFirst()
            changes.append("removed a byte order mark")
        }
        if value.contains("\r") || value.unicodeScalars.contains("\r") {
            value = value.replacingEvery("\r\n", with: "\n").replacingEvery("\r", with: "\n")
            changes.append("converted CRLF line endings")
        }
        let trimmed = value.trimmingWhitespace()
        if !trimmed.contains("\n") && trimmed.contains("\\n") && trimmed.contains("-----BEGIN") {
            value = trimmed.replacingEvery("\\n", with: "\n")
            changes.append("turned literal \\n sequences into line breaks")
        }
        let final = value.trimmingWhitespace()
        if final.isEmpty { return ("", changes) }
        if value == final {
            changes.append("added the missing final newline")
        } else if value != final + "\n" {
            changes.append("trimmed surrounding whitespace")
        }
        return (final + "\n", changes)
    }

    /// The kind of public key the text is, if it is one.
    private static func publicKeyKind(_ text: String) -> String? {
        let first = text.prefix { !$0.isWhitespace }
        let publicTypes = [
            "ssh-ed25519", "ssh-rsa", "ssh-dss", "ecdsa-sha2-", "sk-ssh-", "sk-ecdsa-",
        ]
        if let family = publicTypes.first(where: { first.hasPrefix($0) }) {
            // Only a known type name is quoted: a type glued to its base64 would quote the key.
            let type = String(first.replacing("-cert-v01@openssh.com", with: ""))
            return SSHWireReader.publicKeyTypes.contains(type)
                ? String(first) : family.trimming { $0 == "-" }
        }
        let markers = [
            "---- BEGIN SSH2 PUBLIC KEY ----", "-----BEGIN PUBLIC KEY-----",
            "-----BEGIN RSA PUBLIC KEY-----",
        ]
        for marker in markers where text.hasPrefix(marker) {
            return marker.trimming { $0 == "-" || $0 == " " }
        }
        return nil
    }
}
