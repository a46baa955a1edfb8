// The words of every host-key refusal, in one place: which host, which key was presented,
// what is recorded where, and the command that fixes it (R09).

struct HostKeyMessages {
    let alias: String
    let endpoint: Endpoint
    let presented: HostKeyInfo
    /// The known_hosts files and texts that were read.
    let sources: [String]

    private var name: String { "[\(endpoint.host)]:\(endpoint.port)" }
    private var presentedKey: String { "\(presented.type) \(presented.fingerprint)" }

    private func removeCommand(_ source: String) -> String {
        source.hasPrefix("env:")
            ? "remove the line from \(source)"
            : "`ssh-keygen -R '\(endpoint.knownHostsName)' -f \(source)`"
    }

    func error(_ code: SSHError.Code, _ message: String) -> SSHError {
        SSHError(code, alias: alias, endpoint: endpoint, message: message)
    }

    func pinMismatch(_ expected: String) -> String {
        "host key does not match the pinned fingerprint: \(name) presented \(presentedKey), "
            + "the inventory pins \(expected) for \(alias). Flotilla asks for the ed25519 key "
            + "first, then ECDSA, then RSA: pin the first of these the host has "
            + "(`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the host). If the host "
            + "was rebuilt, confirm the new fingerprint with its administrator and update "
            + "`fingerprint:`; otherwise the connection may be intercepted"
    }

    func revoked(at location: String) -> String {
        "host key revoked: \(name) presented \(presentedKey), which \(location) marks "
            + "@revoked. Do not connect; ask the host's administrator for its new key"
    }

    func changed(_ entry: KnownHostsEntry) -> String {
        "host key changed: \(name) presented \(presentedKey), but \(entry.location) records "
            + "\(entry.keyType) \(entry.key.fingerprint). If the host was rebuilt, confirm the "
            + "new fingerprint with its administrator, remove the old key with "
            + "\(removeCommand(entry.source)), then run `flotilla trust -l \(alias)`; "
            + "otherwise the connection may be intercepted"
    }

    func otherTypesRecorded(_ entries: [KnownHostsEntry]) -> String {
        let recorded = entries.map { "\($0.keyType) \($0.key.fingerprint) at \($0.location)" }
        return "host key of an unrecorded type: \(name) presented \(presentedKey), but only "
            + "keys of another type are recorded (\(recorded.joined(separator: "; "))). "
            + "The host was likely rebuilt, or the connection is intercepted; confirm the "
            + "fingerprint with its administrator, remove the old key with "
            + "\(removeCommand(entries[0].source)), then run `flotilla trust -l \(alias)`"
    }

    func onlyRSARecorded(_ entries: [KnownHostsEntry], libssh2 version: String) -> String {
        let recorded = entries.map { "\($0.key.fingerprint) at \($0.location)" }
        return "host key of an unrecorded type: \(name) presented \(presentedKey), but only "
            + "its RSA key is recorded (ssh-rsa \(recorded.joined(separator: "; "))). This "
            + "build uses libssh2 \(version), which can check RSA host keys only with ssh-rsa "
            + "(SHA-1) signatures, and OpenSSH 8.8 and later no longer offer those. Record the "
            + "host's ed25519 or ECDSA key instead: confirm the fingerprint above with its "
            + "administrator, then run `flotilla trust -l \(alias)`"
    }

    func unknown(bareHostEntry: KnownHostsEntry?) -> String {
        var text = "host key not known: no entry for \(name) in \(sourceList); it presented "
            + "\(presentedKey). Confirm the fingerprint, then run `flotilla trust -l \(alias)`, "
            + "pin it with `fingerprint: \(presented.fingerprint)`, or set "
            + "`host_keys: accept-new`"
        if let entry = bareHostEntry {
            text += ". (\(entry.location) records \(endpoint.host) without a port: that "
                + "entry is for port 22 only)"
        }
        return text
    }

    func nowhereToRecord() -> String {
        "host key not known: no entry for \(name) in \(sourceList), and accept-new has no "
            + "known_hosts file to record \(presentedKey) in; name a file in `known_hosts:`"
    }

    private var sourceList: String {
        sources.isEmpty ? "any known_hosts (none configured)" : sources.joined(separator: ", ")
    }
}
