// Reads inventory files, merges them (later files over earlier ones), checks groups and
// jumps, and turns every host into a fully merged `InventoryHost`.

import FoundationEssentials

struct InventoryLoader {
    private struct GroupDefinition {
        var name: String
        var hosts: [(name: String, location: SourceLocation)] = []
        var children: [(name: String, location: SourceLocation)] = []
        var settings = HostSettings()
        var location: SourceLocation
    }

    private struct HostDefinition {
        var name: String
        var settings = HostSettings()
        var location: SourceLocation
    }

    var environment: [String: String]
    var sshConfigPath: String?
    var log = DiagnosticLog()

    private var defaults = HostSettings()
    private var groups: [GroupDefinition] = []
    private var hosts: [HostDefinition] = []

    init(environment: [String: String], sshConfigPath: String?) {
        self.environment = environment
        self.sshConfigPath = sshConfigPath
    }

    var home: String { environment["HOME"] ?? LocalPath.home }

    mutating func load(files: [String]) -> Inventory {
        for file in files { read(file) }
        checkNames()
        let (memberships, order) = checkGroups()
        var result = Inventory(
            hosts: [], groups: [:], files: files)
        let sshConfig = sshConfigPath.map { SSHConfig.load(path: $0, log: &log) } ?? SSHConfig()
        for group in groups {
            result.groups[group.name] = Group(
                name: group.name, hosts: group.hosts.map(\.name),
                children: group.children.map(\.name), vars: group.settings.vars,
                location: group.location)
        }
        for host in hosts {
            let hostGroups = order.filter { memberships[$0, default: []].contains(host.name) }
            if let merged = merge(host, groups: hostGroups, sshConfig: sshConfig) {
                result.hosts.append(merged)
            }
        }
        checkJumps(result.hosts)
        result.warnings = log.warnings
        return result
    }

    // MARK: Reading one file

    private mutating func read(_ file: String) {
        guard let data = FileManager.default.contents(atPath: file) else {
            log.error("cannot read inventory \(file): no such file, or it is not readable", at: nil)
            return
        }
        guard let root = YAMLParser.parse(Array(data), file: file, log: &log) else { return }
        guard
            let fields = log.fields(
                root, known: ["defaults", "groups", "hosts"], what: "an inventory")
        else { return }
        let reader = HostSettingsReader(
            folder: LocalPath.folder(of: file), environment: environment, home: home)

        if let node = fields["defaults"],
            let layer = log.fields(node, known: HostSettings.defaultsKeys, what: "'defaults'")
        {
            defaults.overlay(reader.read(layer, log: &log))
        }
        if let node = fields["groups"] {
            for entry in log.namedEntries(node, what: "'groups'") {
                readGroup(entry.name, entry.value, at: entry.key.location, reader: reader)
            }
        }
        if let node = fields["hosts"] {
            for entry in log.namedEntries(node, what: "'hosts'") {
                guard
                    let layer = log.fields(
                        entry.value, known: HostSettings.hostKeys, what: "host '\(entry.name)'")
                else { continue }
                let settings = reader.read(layer, log: &log)
                if let index = hosts.firstIndex(where: { $0.name == entry.name }) {
                    hosts[index].settings.overlay(settings)
                } else {
                    hosts.append(
                        HostDefinition(
                            name: entry.name, settings: settings, location: entry.key.location))
                }
            }
        }
    }

    private mutating func readGroup(
        _ name: String, _ node: YAMLNode, at location: SourceLocation, reader: HostSettingsReader
    ) {
        guard let layer = log.fields(node, known: HostSettings.groupKeys, what: "group '\(name)'")
        else { return }
        var group = GroupDefinition(name: name, location: location)
        group.hosts = names(layer["hosts"], key: "hosts")
        group.children = names(layer["children"], key: "children")
        group.settings = reader.read(layer, log: &log)
        if let index = groups.firstIndex(where: { $0.name == name }) {
            groups[index].hosts += group.hosts.filter { new in
                !groups[index].hosts.contains { $0.name == new.name }
            }
            groups[index].children += group.children.filter { new in
                !groups[index].children.contains { $0.name == new.name }
            }
            groups[index].settings.overlay(group.settings)
        } else {
            groups.append(group)
        }
    }

    private mutating func names(
        _ node: YAMLNode?, key: String
    ) -> [(name: String, location: SourceLocation)] {
        guard let node else { return [] }
        if node.scalar != nil, !node.isNull {
            return log.string(node, key).map { [($0, node.location)] } ?? []
        }
        guard case .sequence(let items) = node.content else {
            if !node.isNull {
                log.error(
                    "'\(key)' must be a list of names, not \(node.kindName)", at: node.location)
            }
            return []
        }
        return items.compactMap { item in log.string(item, key).map { ($0, item.location) } }
    }

    // MARK: Checks across files

    private mutating func checkNames() {
        let reserved: Set<Character> = [",", "!", "&", "*", "?", "[", "]", " ", "\t"]
        for host in hosts where host.name.contains(where: reserved.contains) || host.name == "all" {
            log.error(
                "'\(host.name)' cannot name a host: 'all' and the characters , ! & * ? [ ] and "
                    + "spaces have a meaning in host patterns", at: host.location)
        }
        for group in groups {
            if group.name.contains(where: reserved.contains) || group.name == "all" {
                log.error(
                    "'\(group.name)' cannot name a group: 'all' and the characters , ! & * ? [ ] "
                        + "and spaces have a meaning in host patterns", at: group.location)
            }
            if hosts.contains(where: { $0.name == group.name }) {
                log.error(
                    "'\(group.name)' is both a group and a host; a pattern could not tell them "
                        + "apart, so rename one", at: group.location)
            }
        }
    }

    /// Checks members and children, finds cycles, and returns every group's hosts (direct
    /// and through children) with the groups ordered parents before children.
    private mutating func checkGroups() -> ([String: Set<String>], [String]) {
        let groupNames = groups.map(\.name)
        let hostNames = hosts.map(\.name)
        for group in groups {
            for member in group.hosts where !hostNames.contains(member.name) {
                log.error(
                    "group '\(group.name)' lists '\(member.name)', which is not a host of the "
                        + "inventory" + NearestName.hint(member.name, in: hostNames),
                    at: member.location)
            }
            for child in group.children where !groupNames.contains(child.name) {
                log.error(
                    "group '\(group.name)' has child '\(child.name)', which is not a group"
                        + NearestName.hint(child.name, in: groupNames), at: child.location)
            }
        }

        var inCycle: Set<String> = []
        for group in groups where !inCycle.contains(group.name) {
            if let cycle = findCycle(from: group.name) {
                inCycle.formUnion(cycle)
                let start = groups.first { $0.name == cycle[0] }!
                let location = start.children.first { $0.name == cycle[1 % cycle.count] }?.location
                log.error(
                    "groups form a cycle: " + (cycle + [cycle[0]]).joined(separator: " → ")
                        + "; a group cannot contain itself", at: location ?? start.location)
            }
        }

        var members: [String: Set<String>] = [:]
        var depth: [String: Int] = [:]
        func collect(_ name: String, _ seen: Set<String>) -> Set<String> {
            if let known = members[name] { return known }
            guard !seen.contains(name), let group = groups.first(where: { $0.name == name })
            else { return [] }
            var result = Set(group.hosts.map(\.name))
            for child in group.children {
                result.formUnion(collect(child.name, seen.union([name])))
            }
            members[name] = result
            return result
        }
        func level(_ name: String, _ seen: Set<String>) -> Int {
            if let known = depth[name] { return known }
            let parents = groups.filter { $0.children.contains { $0.name == name } }
            var result = 0
            for parent in parents where !seen.contains(parent.name) {
                result = max(result, level(parent.name, seen.union([name])) + 1)
            }
            depth[name] = result
            return result
        }
        for name in groupNames {
            _ = collect(name, [])
            _ = level(name, [])
        }
        let order = groupNames.enumerated().sorted {
            (depth[$0.element]!, $0.offset) < (depth[$1.element]!, $1.offset)
        }.map(\.element)
        return (members, order)
    }

    /// The groups of the first cycle reachable from `start`, in order, or nil.
    private func findCycle(from start: String) -> [String]? {
        var path: [String] = []
        func visit(_ name: String) -> [String]? {
            if let index = path.firstIndex(of: name) { return Array(path[index...]) }
            guard let group = groups.first(where: { $0.name == name }) else { return nil }
            path.append(name)
            defer { path.removeLast() }
            for child in group.children {
                if let cycle = visit(child.name) { return cycle }
            }
            return nil
        }
        guard let cycle = visit(start), cycle.first == start else { return nil }
        return cycle
    }

    private mutating func checkJumps(_ merged: [InventoryHost]) {
        let names = merged.map(\.name)
        var looped: Set<String> = []
        for host in hosts {
            guard
                let jump = host.settings.jump ?? merged.first(where: { $0.name == host.name })?.jump
            else { continue }
            let at = host.settings.jumpLocation ?? host.location
            if jump == host.name {
                log.error("host '\(host.name)' cannot jump through itself", at: at)
                continue
            }
            guard names.contains(jump) else {
                log.error(
                    "host '\(host.name)' jumps through '\(jump)', which is not a host of the "
                        + "inventory" + NearestName.hint(jump, in: names), at: at)
                continue
            }
            var seen = [host.name]
            var next: String? = jump
            while let current = next {
                if seen.contains(current) {
                    guard !looped.contains(host.name) else { break }
                    looped.formUnion(seen)
                    let loop = (seen + [current]).joined(separator: " → ")
                    log.error("jumps form a loop: \(loop)", at: at)
                    break
                }
                seen.append(current)
                next = merged.first { $0.name == current }?.jump
            }
        }
    }

    // MARK: Merging one host

    private mutating func merge(
        _ host: HostDefinition, groups hostGroups: [String], sshConfig: SSHConfig
    ) -> InventoryHost? {
        var settings = defaults
        for name in hostGroups {
            if let group = groups.first(where: { $0.name == name }) {
                settings.overlay(group.settings)
            }
        }
        settings.overlay(host.settings)

        // ~/.ssh/config fills what the inventory leaves open.
        let ssh = sshConfig.settings(for: host.name)
        var address = settings.address
        if address == nil, let hostName = ssh.hostName {
            switch HostAddress.parse(hostName.value) {
            case .success(let (parsed, _)): address = parsed.host
            case .failure(let problem):
                log.error(
                    "bad HostName for '\(host.name)': \(problem.message)", at: hostName.location)
            }
        }
        if address == nil {
            switch HostAddress.parse(host.name) {
            case .success(let (parsed, warning)):
                address = parsed.host
                if let warning { log.warning(warning, at: host.location) }
                if settings.port == nil, let port = parsed.port { settings.port = port }
            case .failure:
                log.error(
                    "host '\(host.name)' has no 'address', and its name is not a host name or "
                        + "an IP address; add address:", at: host.location)
                return nil
            }
        }
        if settings.port == nil, let port = ssh.port {
            settings.port = Int(port.value).flatMap { (1...65535).contains($0) ? $0 : nil }
            if settings.port == nil {
                log.error("bad Port '\(port.value)' for '\(host.name)'", at: port.location)
            }
        }
        if settings.user == nil { settings.user = ssh.user?.value }
        if settings.identities == nil, !ssh.identityFiles.isEmpty {
            let files = ssh.identityFiles.map {
                LocalPath.resolve($0.value, folder: "", home: home)
            }
            .filter { FileManager.default.fileExists(atPath: $0) }
            if !files.isEmpty { settings.identities = files.map { .file($0) } }
        }
        if settings.jump == nil, let proxy = ssh.proxyJump, proxy.value.lowercased() != "none" {
            guard hosts.contains(where: { $0.name == proxy.value }) else {
                log.error(
                    "ProxyJump '\(proxy.value)' for '\(host.name)' is not a host of the "
                        + "inventory; Flotilla jumps only through inventory hosts, so add "
                        + "'\(proxy.value)' under hosts:", at: proxy.location)
                return nil
            }
            settings.jump = proxy.value
        }

        return InventoryHost(
            name: host.name, address: address!, port: settings.port ?? 22,
            user: settings.user ?? environment["USER"] ?? environment["LOGNAME"] ?? "root",
            identities: settings.identities ?? defaultIdentities(),
            passphrase: settings.passphrase,
            knownHosts: settings.knownHosts ?? [.file(home + "/.ssh/known_hosts")],
            hostKeys: settings.hostKeys ?? .strict, fingerprint: settings.fingerprint,
            jump: settings.jump, connectTimeout: settings.connectTimeout ?? .seconds(10),
            path: settings.path ?? [], vars: settings.vars, groups: hostGroups,
            location: host.location)
    }

    private func defaultIdentities() -> [TextSource] {
        ["id_ed25519", "id_ecdsa", "id_rsa"].map { home + "/.ssh/" + $0 }
            .filter { FileManager.default.fileExists(atPath: $0) }
            .map { .file($0) }
    }
}
