// One line of a known_hosts file: which hosts it names and which key it records.

import FoundationEssentials

struct KnownHostsEntry: Sendable, Hashable {
    enum Marker: Sendable, Hashable {
        case none
        /// `@revoked`: this key must never be accepted.
        case revoked
        /// `@cert-authority`: a CA for host certificates; Flotilla does not use these.
        case certificateAuthority
    }

    /// How the line names its hosts.
    enum Names: Sendable, Hashable {
        /// Comma-separated patterns, each maybe negated with `!` and with `*`/`?`.
        case patterns([String])
        /// `|1|salt|hash`: HMAC-SHA1 of the name under the salt.
        case hashed(salt: [UInt8], hash: [UInt8])
    }

    var marker: Marker
    var names: Names
    /// The type field of the line (`ssh-ed25519`).
    var keyType: String
    var blob: [UInt8]
    /// The file path or the `env:NAME` the line came from.
    var source: String
    var line: Int

    /// `file:line`, for messages.
    var location: String { "\(source):\(line)" }

    var key: HostKeyInfo {
        HostKeyInfo(type: keyType, fingerprint: sha256Fingerprint(blob), blob: blob)
    }

    /// Whether the line applies to a host looked up as any of `lookupNames` (`[host]:port`,
    /// or the bare host for port 22). A negated pattern that matches excludes the host even
    /// when another pattern includes it, as in OpenSSH.
    func applies(to lookupNames: [String]) -> Bool {
        switch names {
        case .hashed(let salt, let hash):
            return lookupNames.contains {
                KeyDigest.hmacSHA1(key: salt, message: Array($0.lowercased().utf8)) == hash
            }
        case .patterns(let patterns):
            return lookupNames.contains { name in
                var included = false
                for pattern in patterns {
                    let negated = pattern.hasPrefix("!")
                    let glob = negated ? String(pattern.dropFirst()) : pattern
                    guard Self.glob(glob.lowercased(), matches: name.lowercased()) else {
                        continue
                    }
                    if negated { return false }
                    included = true
                }
                return included
            }
        }
    }

    /// Whether the line names `host` without a port while the lookup is for another port:
    /// the entry libssh2 would wrongly fall back to (R07), worth a hint in messages.
    func namesBareHost(_ host: String) -> Bool {
        guard case .patterns(let patterns) = names else {
            return applies(to: [host])
        }
        return patterns.contains { $0.lowercased() == host.lowercased() }
    }

    /// OpenSSH's wildcard match: `*` any run of characters, `?` exactly one.
    static func glob(_ pattern: String, matches text: String) -> Bool {
        let pattern = Array(pattern)
        let text = Array(text)
        var p = 0
        var t = 0
        var starAt: Int?
        var resumeAt = 0
        while t < text.count {
            if p < pattern.count && (pattern[p] == "?" || pattern[p] == text[t]) {
                p += 1
                t += 1
            } else if p < pattern.count && pattern[p] == "*" {
                starAt = p
                resumeAt = t
                p += 1
            } else if let star = starAt {
                // Let the last `*` swallow one more character and try again.
                p = star + 1
                resumeAt += 1
                t = resumeAt
            } else {
                return false
            }
        }
        while p < pattern.count && pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}
