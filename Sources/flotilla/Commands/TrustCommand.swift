import FlotillaSupport
import FlotillaConfig
import FlotillaSSH
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        inventory = InventoryChoice(arguments, environment: environment)
        yes = arguments.has("yes")
        home = environment["HOME"] ?? LocalPath.home
        if let text = arguments.value("fingerprint") {
            guard text.hasPrefix("SHA256:"), text.count > 7 else {
                throw UsageError(
                    "'--fingerprint' takes SHA256:… as ssh-keygen -lf prints it (got '\(text)')",
                    command: "trust")
            }
            fingerprint = text
        }
    }

    /// What became of one key the host presented.
    enum KeyOutcome: Equatable {
        /// Recorded now, or already recorded or pinned.
        case trusted
        /// Left alone: no consent, another fingerprint was named, or not the pinned key.
        case notRecorded
        /// Changed or revoked: the host is refused until a person looks.
        case refused
    }

    /// Key types asked for one by one, so every key the host has is shown and a
    /// fingerprint from the provider's console matches whichever type it is of.
    static let algorithms = [
        "ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
        "rsa-sha2-512", "ssh-rsa",
    ]

    func run() async throws -> Int32 {
        let inventory = try self.inventory.load()
        let hosts = try self.inventory.select(in: inventory)
        let out = TextOutput.standardOutput
        let interactive = isatty(STDIN_FILENO) == 1 && out.isTerminal
        let probes = await Self.probe(hosts)

        var allTrusted = true
        for host in hosts {
            let endpoint = Endpoint(host: host.address, port: host.port)
            out.write(lines: ["\(host.name) (\(endpoint))"])
            // Known limit: key probing opens its own TCP connection and cannot go through
            // a jump host; the help and docs/commands.md say what to do instead.
            if let jump = host.jump {
                out.write(lines: [
                    "  skipped: reached through \(jump), and trust connects only directly;",
                    "  pin its `fingerprint:` in the inventory, or add the line that",
                    "  `ssh-keyscan -p \(host.port) \(host.address)` prints on \(jump)",
                ])
                allTrusted = false
                continue
            }
            let keys: [HostKeyInfo]
            switch probes[host.name]! {
            case .success(let probed):
                keys = probed
            case .failure(let error):
                out.write(lines: ["  error: \(error)"])
                allTrusted = false
                continue
            }
            // What known_hosts says of each key, read once; a pinned host ignores known_hosts.
            let files = knownHostsFiles(of: host)
            let statuses = try keys.map { key throws -> KnownHosts.Status? in
                host.fingerprint == nil
                    ? try KnownHosts.status(of: key, for: endpoint, files: files) : nil
            }
            // A changed or revoked key means someone must look first: while one stands,
            // no other key of that host is recorded, or an attacker offering only another
            // key type would pass.
            let oneRefused = statuses.contains { status in
                switch status {
                case .changed, .revoked: true
                default: false
                }
            }
            var outcomes: [KeyOutcome] = []
            for (key, status) in zip(keys, statuses) {
                outcomes.append(try decide(
                    key, status: status, host: host, endpoint: endpoint, files: files,
                    interactive: interactive, mayRecord: !oneRefused, out: out))
            }
            // One trusted key is enough to connect; a changed one means someone must look.
            allTrusted = allTrusted && outcomes.contains(.trusted)
                && !outcomes.contains(.refused)
        }
        return allTrusted ? 0 : 3
    }

    /// Every host's keys, fetched in parallel; the questions come afterwards, in order.
    private static func probe(
        _ hosts: [InventoryHost]
    ) async -> [String: Result<[HostKeyInfo], SSHError>] {
        await withTaskGroup(of: (String, Result<[HostKeyInfo], SSHError>).self) { group in
            for host in hosts where host.jump == nil {
                group.addTask {
                    let endpoint = Endpoint(host: host.address, port: host.port)
                    do throws(SSHError) {
                        let keys = try await Session.probeHostKeys(
                            alias: host.name, endpoint: endpoint, algorithms: algorithms,
                            timeout: host.connectTimeout)
                        return (host.name, .success(keys))
                    } catch {
                        return (host.name, .failure(error))
                    }
                }
            }
            var results: [String: Result<[HostKeyInfo], SSHError>] = [:]
            for await (name, result) in group { results[name] = result }
            return results
        }
    }

    /// Shows one key, and records it when allowed.
    private func decide(
        _ key: HostKeyInfo, status: KnownHosts.Status?, host: InventoryHost,
        endpoint: Endpoint, files: [String], interactive: Bool, mayRecord: Bool,
        out: TextOutput
    ) throws -> KeyOutcome {
        let head = "  \(key.type)  \(key.fingerprint)"
        if let pinned = host.fingerprint {
            let same = pinned == key.fingerprint
            out.write(lines: [head + (same ? "  matches the pinned fingerprint"
                : "  not the key the inventory pins; not used")])
            return same ? .trusted : .notRecorded
        }
        guard let status else {
            preconditionFailure("a host without a pin has its known_hosts status read")
        }

        switch status {
        case .matches:
            out.write(lines: [head + "  already trusted"])
            return .trusted
        case .revoked:
            out.write(lines: [head + "  REVOKED in known_hosts; not recorded"])
            return .refused
        case .changed(let recorded, let place):
            let file = files.first ?? "~/.ssh/known_hosts"
            out.write(lines: [
                head + "  CHANGED: \(place) records \(recorded.fingerprint)",
                "  Not replaced. If the host was rebuilt, confirm the new fingerprint with its",
                "  owner, remove the old key, and run trust again:",
                "    ssh-keygen -R '\(endpoint.knownHostsName)' -f \(file)",
            ])
            return .refused
        case .unknown:
            out.write(lines: [head + "  new"])
            guard mayRecord else {
                out.write(lines: [
                    "  not recorded: another key of this host has changed or is revoked",
                ])
                return .notRecorded
            }
        }

        guard let file = files.first else {
            let line = "\(endpoint.knownHostsName) \(key.type) "
                + Data(key.blob).base64EncodedString()
            out.write(lines: [
                "  not recorded: this host's known_hosts comes from an environment variable;",
                "  add this line to it:", "    \(line)",
            ])
            return .notRecorded
        }
        guard try confirmed(key, host: host, file: file, interactive: interactive, out: out)
        else { return .notRecorded }
        try KnownHosts.record(key, for: endpoint, in: file)
        out.write(lines: ["  recorded in \(file)"])
        return .trusted
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
        let answer = readLine()?.trimmingBlanks().lowercased()
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
