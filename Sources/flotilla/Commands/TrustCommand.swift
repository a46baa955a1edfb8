import FlotillaConfig
import FlotillaSSH
import Foundation

/// `flotilla trust`: fetch each host's key, show its type, fingerprint and what known_hosts
/// says of it, and record a new key when the user confirms it, passes `--yes`, or names
/// its fingerprint. A changed key is never replaced here.
struct TrustCommand: Command {
    static let spec = CommandSpec.trust

    var inventory: InventoryChoice
    var fingerprint: String?
    var yes: Bool
    var home: String

    init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        try arguments.expectNoPositionals(command: "trust")
        inventory = try InventoryChoice(arguments, environment: environment, command: "trust")
        yes = arguments.has("yes")
        home = environment["HOME"] ?? NSHomeDirectory()
        if let text = arguments.value("fingerprint") {
            guard text.hasPrefix("SHA256:"), text.count > 7 else {
                throw UsageError(
                    "'--fingerprint' takes SHA256:… as ssh-keygen -lf prints it (got '\(text)')",
                    command: "trust")
            }
            fingerprint = text
        }
    }

    func run() async throws -> Int32 {
        let inventory = try self.inventory.load()
        let hosts = try self.inventory.select(in: inventory)
        let out = TextOutput.standardOutput
        let interactive = isatty(STDIN_FILENO) == 1 && out.isTerminal

        var trusted = true
        for host in hosts {
            let endpoint = Endpoint(host: host.address, port: host.port)
            out.write(lines: ["\(host.name) (\(endpoint))"])
            let keys: [HostKeyInfo]
            do {
                keys = try await Session.probeHostKeys(
                    alias: host.name, endpoint: endpoint, timeout: host.connectTimeout)
            } catch {
                out.write(lines: ["  error: \(error)"])
                trusted = false
                continue
            }
            for key in keys {
                let ok = try decide(
                    key, host: host, endpoint: endpoint, interactive: interactive, out: out)
                trusted = trusted && ok
            }
        }
        return trusted ? 0 : 3
    }

    /// Shows one key and records it if allowed; true when the key ends up trusted.
    private func decide(
        _ key: HostKeyInfo, host: InventoryHost, endpoint: Endpoint, interactive: Bool,
        out: TextOutput
    ) throws -> Bool {
        let head = "  \(key.type)  \(key.fingerprint)"
        if let pinned = host.fingerprint {
            let same = pinned == key.fingerprint
            out.write(lines: [head + (same ? "  matches the pinned fingerprint"
                : "  CHANGED: the inventory pins \(pinned)")])
            return same
        }

        let files = knownHostsFiles(of: host)
        switch try KnownHosts.status(of: key, for: endpoint, files: files) {
        case .matches:
            out.write(lines: [head + "  already trusted"])
            return true
        case .revoked:
            out.write(lines: [head + "  REVOKED in known_hosts; not recorded"])
            return false
        case .changed(let recorded, let place):
            let file = files.first ?? "~/.ssh/known_hosts"
            out.write(lines: [
                head + "  CHANGED: \(place) records \(recorded.fingerprint)",
                "  Not replaced. If the host was rebuilt, confirm the new fingerprint with its",
                "  owner, remove the old key, and run trust again:",
                "    ssh-keygen -R '\(endpoint.knownHostsName)' -f \(file)",
            ])
            return false
        case .unknown:
            out.write(lines: [head + "  new"])
        }

        guard let file = files.first else {
            let line = "\(endpoint.knownHostsName) \(key.type) "
                + Data(key.blob).base64EncodedString()
            out.write(lines: [
                "  not recorded: this host's known_hosts comes from an environment variable;",
                "  add this line to it:", "    \(line)",
            ])
            return false
        }
        guard try confirmed(key, host: host, file: file, interactive: interactive, out: out)
        else { return false }
        try KnownHosts.record(key, for: endpoint, in: file)
        out.write(lines: ["  recorded in \(file)"])
        return true
    }

    private func confirmed(
        _ key: HostKeyInfo, host: InventoryHost, file: String, interactive: Bool,
        out: TextOutput
    ) throws -> Bool {
        if let fingerprint {
            guard fingerprint == key.fingerprint else {
                out.write(lines: ["  not recorded: it is not \(fingerprint)"])
                return false
            }
            return true
        }
        if yes { return true }
        guard interactive else {
            out.write(lines: [
                "  not recorded: confirm on a terminal, or pass --yes or --fingerprint",
            ])
            return false
        }
        out.write("  Record \(host.name)'s \(key.type) key in \(file)? [y/N] ")
        let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased()
        return answer == "y" || answer == "yes"
    }

    /// The host's known_hosts files, or OpenSSH's own when the inventory names none, as
    /// runs read them.
    private func knownHostsFiles(of host: InventoryHost) -> [String] {
        guard !host.knownHosts.isEmpty else {
            return [home + "/.ssh/known_hosts"]
        }
        return host.knownHosts.compactMap { source in
            if case .file(let path) = source { return path }
            return nil
        }
    }
}
