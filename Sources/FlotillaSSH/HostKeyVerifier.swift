// Checking one host's key against the pinned fingerprint or the known_hosts sources, for
// the session that performs the handshake.

import FoundationEssentials

/// What verification concluded when it accepted a key.
enum HostKeyVerdict: Sendable, Hashable {
    /// The key matches the pinned fingerprint.
    case matchedPin
    /// The key is recorded at `file:line`.
    case matchedKnownHosts(at: String)
    /// The key was unknown and, under accept-new, recorded in this file.
    case recorded(in: String)
}

/// Checks one host's key against a policy. Made once per connection attempt.
struct HostKeyVerifier: Sendable {
    let policy: HostKeyPolicy
    let alias: String
    let endpoint: Endpoint
    /// Every known_hosts source, in the policy's order: files, then texts.
    let sources: [KnownHostsFile]

    /// Reads the known_hosts sources; a bad line is an error naming file and line.
    init(policy: HostKeyPolicy, alias: String, endpoint: Endpoint) throws(SSHError) {
        self.policy = policy
        self.alias = alias
        self.endpoint = endpoint
        var sources: [KnownHostsFile] = []
        // A pin decides alone: a damaged known_hosts must not stop a pinned host.
        if policy.fingerprint != nil {
            self.sources = []
            return
        }
        do {
            for file in policy.knownHostsFiles {
                sources.append(try KnownHostsFile.read(path: Self.expandingHome(file)))
            }
            for text in policy.knownHostsText {
                sources.append(try KnownHostsFile.parseOnce(text.text, source: text.source))
            }
        } catch {
            throw SSHError(error.code, alias: alias, endpoint: endpoint, message: error.message)
        }
        self.sources = sources
    }

    /// The names this endpoint is looked up as: `[host]:port`, and for port 22 the bare
    /// host as well. Never the bare host for another port: that entry belongs to another
    /// server (R07).
    var lookupNames: [String] {
        let bracketed = "[\(endpoint.host)]:\(endpoint.port)"
        return endpoint.port == 22 ? [endpoint.host, bracketed] : [bracketed]
    }

    /// The entries that apply to this endpoint, certificate authorities left out.
    var entries: [KnownHostsEntry] {
        let names = lookupNames
        return sources.flatMap(\.entries).filter {
            $0.marker != .certificateAuthority && $0.applies(to: names)
        }
    }

    /// Host-key algorithms to offer, best first: the types recorded for this host, then the
    /// rest of `supported` in libssh2's order, so a host recorded only with its ed25519 key
    /// is matched (R08). With nothing recorded (an unknown or pinned host), OpenSSH's own
    /// order: the key shown for an unknown host is then the one a pin is checked against.
    func preferredAlgorithms(supported: [String]) -> [String] {
        var preferred: [String] = []
        if policy.fingerprint == nil {
            for entry in entries where entry.marker == .none {
                // A recorded RSA key is the same key under every RSA signature algorithm;
                // the SHA-2 ones are the ones modern servers accept.
                let algorithms =
                    entry.keyType == "ssh-rsa"
                    ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [entry.keyType]
                for algorithm in algorithms
                where supported.contains(algorithm) && !preferred.contains(algorithm) {
                    preferred.append(algorithm)
                }
            }
        }
        if preferred.isEmpty { preferred = Self.openSSHOrder.filter(supported.contains) }
        return preferred + supported.filter { !preferred.contains($0) }
    }

    /// Accepts the key, records it (accept-new), or throws `.hostKeyUnknown`,
    /// `.hostKeyChanged` or `.hostKeyRevoked` with both fingerprints and the fix.
    @discardableResult
    func verify(_ key: HostKeyInfo) throws(SSHError) -> HostKeyVerdict {
        let presented = HostKeyInfo(
            type: SSHWireReader.keyType(ofBlob: key.blob) ?? key.type,
            fingerprint: sha256Fingerprint(key.blob), blob: key.blob)
        let messages = HostKeyMessages(
            alias: alias, endpoint: endpoint, presented: presented,
            sources: sources.map(\.source))

        if let pinned = policy.fingerprint {
            let expected = KeyDigest.normalizedFingerprint(pinned)
            guard expected == presented.fingerprint else {
                throw messages.error(.hostKeyChanged, messages.pinMismatch(expected))
            }
            return .matchedPin
        }

        let entries = self.entries
        if let revoked = entries.first(where: { $0.marker == .revoked && $0.blob == key.blob }) {
            throw messages.error(.hostKeyRevoked, messages.revoked(at: revoked.location))
        }
        let recorded = entries.filter { $0.marker == .none }
        if let match = recorded.first(where: { $0.blob == key.blob }) {
            return .matchedKnownHosts(at: match.location)
        }
        if let sameType = recorded.first(where: { $0.keyType == presented.type }) {
            throw messages.error(.hostKeyChanged, messages.changed(sameType))
        }
        if !recorded.isEmpty {
            // libssh2 before 1.11 asks for RSA host keys only as ssh-rsa (SHA-1), which
            // OpenSSH 8.8 and later no longer offer: the RSA key cannot be checked (R08).
            let onlyRSA = recorded.allSatisfy { $0.keyType == "ssh-rsa" }
            throw messages.error(
                .hostKeyChanged,
                onlyRSA && LibSSH2Runtime.signsRSAWithSHA1Only
                    ? messages.onlyRSARecorded(recorded, libssh2: LibSSH2Runtime.version)
                    : messages.otherTypesRecorded(recorded))
        }

        let bareHostEntry = endpoint.port == 22 ? nil : sources.flatMap(\.entries).first {
            $0.marker == .none && $0.namesBareHost(endpoint.host)
        }
        guard policy.mode == .acceptNew else {
            throw messages.error(.hostKeyUnknown, messages.unknown(bareHostEntry: bareHostEntry))
        }
        guard let file = policy.knownHostsFiles.first.map(Self.expandingHome) else {
            throw messages.error(.hostKeyUnknown, messages.nowhereToRecord())
        }
        do {
            try KnownHosts.record(presented, for: endpoint, in: file)
        } catch {
            throw SSHError(error.code, alias: alias, endpoint: endpoint, message: error.message)
        }
        return .recorded(in: file)
    }

    /// OpenSSH's default host-key algorithm order (ssh_config HostKeyAlgorithms).
    static let openSSHOrder = [
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "rsa-sha2-512", "rsa-sha2-256",
    ]

    static func expandingHome(_ path: String) -> String {
        guard path == "~" || path.hasPrefix("~/") else { return path }
        return FileManager.default.homeDirectoryForCurrentUser.path + path.dropFirst()
    }
}
