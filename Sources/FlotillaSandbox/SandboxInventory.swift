// The inventory and known_hosts a fleet writes, so Flotilla and OpenSSH's own client can
// reach it with strict host key checking.

import FoundationEssentials

enum SandboxInventory {
    /// `inventory/sandbox.yml` keeps its known_hosts in `inventory/sandbox_known_hosts`,
    /// so a hand-written `inventory/known_hosts` beside it is never overwritten.
    static func knownHostsPath(forInventory inventory: String) -> String {
        let url = URL(fileURLWithPath: inventory)
        let stem = url.deletingPathExtension().lastPathComponent
        return url.deletingLastPathComponent().appendingPathComponent("\(stem)_known_hosts").path
    }

    /// One `[127.0.0.1]:PORT type base64` line per host key of every server (and `[::1]`
    /// lines when the servers listen there too).
    static func knownHosts(_ hosts: [SandboxHost], ipv6: Bool) -> String {
        var lines: [String] = []
        for host in hosts {
            for key in host.hostKeys {
                lines.append("[127.0.0.1]:\(host.port) \(key)")
                if ipv6 { lines.append("[::1]:\(host.port) \(key)") }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The inventory in Flotilla's format: defaults, the `sandbox` group, and one entry per
    /// host with its address, port and (when hosts differ) user.
    static func yaml(
        _ hosts: [SandboxHost], identityFile: String, knownHostsFile: String
    ) -> String {
        let users = Set(hosts.map(\.user))
        var lines = [
            "# The local sandbox fleet: sshd servers on 127.0.0.1, written by",
            "# `flotilla sandbox up`. `flotilla sandbox down` stops them.",
            "defaults:",
        ]
        if users.count == 1, let user = users.first { lines.append("  user: \(quoted(user))") }
        lines += [
            "  identity: \(quoted(identityFile))",
            "  known_hosts: \(quoted(knownHostsFile))",
            "  host_keys: strict",
            "groups:",
            "  sandbox:",
            "    hosts: [\(hosts.map { quoted($0.name) }.joined(separator: ", "))]",
            "hosts:",
        ]
        for host in hosts {
            lines.append("  \(quoted(host.name)):")
            lines.append("    address: \(host.address)")
            lines.append("    port: \(host.port)")
            if users.count > 1 { lines.append("    user: \(quoted(host.user))") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Plain YAML when the text is unambiguous, a double-quoted string otherwise.
    private static func quoted(_ text: String) -> String {
        let plain = text.allSatisfy {
            $0.isASCII && ($0.isLetter || $0.isNumber || "-_./".contains($0))
        }
        if plain, let first = text.first, first.isLetter || first == "/" { return text }
        var escaped = ""
        for scalar in text.unicodeScalars {
            if scalar == "\\" || scalar == "\"" { escaped += "\\" }
            escaped.unicodeScalars.append(scalar)
        }
        return "\"\(escaped)\""
    }
}
