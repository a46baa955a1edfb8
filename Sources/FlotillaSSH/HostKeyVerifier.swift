// The seam between the session (which performs the handshake) and host-key checking (which
// reads known_hosts and fingerprints). Bodies marked "not built yet" are filled in by the
// host-key implementation.

/// Checks one host's key against a policy. Made once per connection attempt.
struct HostKeyVerifier: Sendable {
    let policy: HostKeyPolicy
    let alias: String
    let endpoint: Endpoint

    /// Reads the known_hosts sources; a bad line is an error naming file and line.
    init(policy: HostKeyPolicy, alias: String, endpoint: Endpoint) throws(SSHError) {
        self.policy = policy
        self.alias = alias
        self.endpoint = endpoint
        fatalError("not built yet")
    }

    /// Host-key algorithms to offer, best first: the types recorded for this host, then the
    /// rest of `supported`, so a host recorded only with its ed25519 key is matched.
    func preferredAlgorithms(supported: [String]) -> [String] {
        fatalError("not built yet")
    }

    /// Accepts the key, records it (accept-new), or throws `.hostKeyUnknown`,
    /// `.hostKeyChanged` or `.hostKeyRevoked` with both fingerprints and the fix.
    func verify(_ key: HostKeyInfo) throws(SSHError) {
        fatalError("not built yet")
    }
}

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

    /// Loads and checks a key file or key text. Public keys, PuTTY keys, keys whose line
    /// breaks became spaces and truncated keys are recognised and named in the error.
    static func load(_ identity: Identity) throws(SSHError) -> PrivateKeyMaterial {
        fatalError("not built yet")
    }
}

/// `SHA256:` and the unpadded base64 of the SHA-256 of a key blob, as OpenSSH prints it.
public func sha256Fingerprint(_ blob: [UInt8]) -> String {
    fatalError("not built yet")
}

/// Reading and writing known_hosts for `flotilla trust`.
public enum KnownHosts {
    public enum Status: Sendable, Hashable {
        case matches
        case unknown
        /// A different key of the same type is recorded (`file:line`).
        case changed(recorded: HostKeyInfo, at: String)
        case revoked
    }

    /// What the known_hosts files say of this key for this endpoint.
    public static func status(
        of key: HostKeyInfo, for endpoint: Endpoint, files: [String]
    ) throws(SSHError) -> Status {
        fatalError("not built yet")
    }

    /// Appends `[host]:port type base64` (the bare host for port 22), creating the file
    /// (0600) and its folder when missing.
    public static func record(_ key: HostKeyInfo, for endpoint: Endpoint, in file: String)
        throws(SSHError)
    {
        fatalError("not built yet")
    }
}
