// The public face of loading: the signatures the engine and the CLI build on. The work is
// done by InventoryLoader, PlaybookLoader, HostPattern, SecretResolver and PlanResolver.

import FlotillaSupport
import FoundationEssentials

public struct Inventory: Sendable {
    /// Every host, merged, in the order of the files.
    public var hosts: [InventoryHost]
    public var groups: [String: Group]
    /// The files it was loaded from, in order.
    public var files: [String]
    /// Problems worth showing that do not stop a run (an IPv6 address that looks like it
    /// carries a port), in file order.
    public var warnings: [Diagnostic] = []

    public init(hosts: [InventoryHost], groups: [String: Group], files: [String]) {
        self.hosts = hosts
        self.groups = groups
        self.files = files
    }

    /// Loads and merges inventory files (later files override earlier ones), expands `~`,
    /// and fills gaps from `~/.ssh/config` (`sshConfig`, nil to skip). Reports every problem.
    public static func load(
        files: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
        sshConfig: String? = FileManager.default.homeDirectoryForCurrentUser.path + "/.ssh/config"
    ) throws(DiagnosticError) -> Inventory {
        var loader = InventoryLoader(environment: environment, sshConfigPath: sshConfig)
        let inventory = loader.load(files: files)
        try loader.log.check()
        return inventory
    }

    /// PRODUCT §2's fallback: the `-i` files, else `FLOTILLA_INVENTORY`, else
    /// `inventory.yml` in the current folder, else an error saying so.
    public static func loadDefault(
        explicit: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
        sshConfig: String? = FileManager.default.homeDirectoryForCurrentUser.path + "/.ssh/config"
    ) throws(DiagnosticError) -> Inventory {
        if !explicit.isEmpty {
            return try load(files: explicit, environment: environment, sshConfig: sshConfig)
        }
        if let fromEnvironment = environment["FLOTILLA_INVENTORY"], !fromEnvironment.isEmpty {
            return try load(
                files: [fromEnvironment], environment: environment, sshConfig: sshConfig)
        }
        if FileManager.default.fileExists(atPath: "inventory.yml") {
            return try load(
                files: ["inventory.yml"], environment: environment, sshConfig: sshConfig)
        }
        throw DiagnosticError([
            Diagnostic(
                at: nil,
                "no inventory: pass -i FILE, set FLOTILLA_INVENTORY, or create inventory.yml in "
                    + "the current folder")
        ])
    }

    public func host(named name: String) -> InventoryHost? {
        hosts.first { $0.name == name }
    }

    /// The hosts a PATTERN selects, in inventory order: `all`, names, groups, globs,
    /// `!name` to exclude, `&group` to intersect, comma lists. An unknown name is an error.
    public func select(_ pattern: String) throws(DiagnosticError) -> [InventoryHost] {
        try select(pattern, at: nil)
    }

    /// Like `select(_:)`, with errors pointing at where the pattern was written.
    public func select(
        _ pattern: String, at location: SourceLocation?
    ) throws(DiagnosticError) -> [InventoryHost] {
        var problems = HostPattern.errors(for: pattern, in: self, at: location)
        guard problems.isEmpty, let parsed = HostPattern(pattern) else {
            // Show the line the pattern was written on, as every other diagnostic does.
            if let file = location?.file, let data = FileManager.default.contents(atPath: file) {
                var log = DiagnosticLog()
                log.addSource(file: file, text: String(decoding: data, as: UTF8.self))
                problems = problems.map { problem in
                    var problem = problem
                    problem.sourceLine = problem.location.flatMap(log.sourceLine)
                    return problem
                }
            }
            throw DiagnosticError(problems)
        }
        return parsed.select(from: self)
    }
}

/// `--shard K/N`: the K-th (1-based) of N stable shards; a host's shard depends only on its
/// name, so it stays put when the inventory is reordered.
public struct Shard: Sendable, Hashable {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses `K/N`.
    public static func parse(_ text: String) -> Shard? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]),
            count >= 1, (1...count).contains(index)
        else { return nil }
        return Shard(index: index, count: count)
    }

    /// Keeps the hosts whose name hashes (FNV-1a, 64 bits) to this shard, in their order.
    public func apply(to hosts: [InventoryHost]) -> [InventoryHost] {
        hosts.filter { Int(Self.hash($0.name) % UInt64(count)) == index - 1 }
    }

    /// FNV-1a over the name's UTF-8 bytes: the same on every machine and every run.
    static func hash(_ name: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}

extension Playbook {
    /// Loads and checks a playbook file: every key, type, duration and mode, every local
    /// file it names, every handler it notifies. Reports every problem.
    public static func load(path: String) throws(DiagnosticError) -> Playbook {
        var loader = PlaybookLoader(path: path)
        let playbook = loader.load()
        try loader.log.check()
        guard let playbook else {
            throw DiagnosticError([Diagnostic(at: nil, "cannot read playbook \(path)")])
        }
        return playbook
    }
}

/// The resolved values of a playbook's secrets. Every value is also what outputs redact.
public struct Secrets: Sendable {
    public var values: [String: String]

    public init(values: [String: String]) {
        self.values = values
    }

    /// Resolves every declared secret once (`env:`, `file:`, `command:`); a missing one is an
    /// input error pointing at its declaration.
    public static func resolve(
        _ declarations: [SecretDeclaration], relativeTo folder: String,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DiagnosticError) -> Secrets {
        var log = DiagnosticLog()
        var values: [String: String] = [:]
        for file in Set(declarations.compactMap(\.location?.file)) {
            if let data = FileManager.default.contents(atPath: file) {
                log.addSource(file: file, text: String(decoding: data, as: UTF8.self))
            }
        }
        for declaration in declarations {
            switch SecretResolver.resolve(
                declaration.source, relativeTo: folder, environment: environment)
            {
            case .success(let value): values[declaration.name] = value
            case .failure(let problem):
                log.error(
                    "secret '\(declaration.name)': \(problem.message)", at: declaration.location)
            }
        }
        try log.check()
        return Secrets(values: values)
    }

    /// Every text outputs must hide: each value, and for multi-line values (a `.env` file)
    /// each line and each `KEY=VALUE` value, longest first so the whole value is hidden before
    /// its parts. Pieces shorter than 4 characters are left out: hiding them would mangle
    /// ordinary output without protecting anything.
    public var redactionStrings: [String] {
        var pieces: Set<String> = []
        for value in values.values {
            pieces.insert(value)
            for line in value.split(whereSeparator: \.isNewline) {
                let trimmed = line.trimmingBlanks()
                pieces.insert(trimmed)
                if let equals = trimmed.firstIndex(of: "=") {
                    var rest = trimmed[trimmed.index(after: equals)...]
                    if rest.count >= 2, let first = rest.first, first == "\"" || first == "'",
                        rest.last == first
                    {
                        rest = rest.dropFirst().dropLast()
                    }
                    pieces.insert(String(rest))
                }
            }
        }
        return pieces.filter { $0.count >= 4 }.sorted {
            $0.count > $1.count || ($0.count == $1.count && $0 < $1)
        }
    }
}

/// Resolves one secret source the way playbook secrets are resolved; the engine uses it for
/// an inventory host's `passphrase:`. `relativeTo` is the folder a relative `file:` is read
/// from (inventory paths are already resolved when loaded).
public func resolveSecretSource(
    _ source: SecretSource, relativeTo folder: String = "",
    environment: [String: String] = ProcessInfo.processInfo.environment
) throws(DiagnosticError) -> String {
    switch SecretResolver.resolve(source, relativeTo: folder, environment: environment) {
    case .success(let value): return value
    case .failure(let problem): throw DiagnosticError([Diagnostic(at: nil, problem.message)])
    }
}

/// A step made concrete for one host: every template rendered, every local file read.
public struct ResolvedStep: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case run(String)
        case script(localPath: String, contents: [UInt8], args: String?)
        case upload(localPath: String, to: String)
        case template(localPath: String, contents: [UInt8], to: String)
        case secret(contents: [UInt8], to: String)
        case fetch(from: String, to: String)
    }

    /// Stable across runs of the same playbook: `stage/step` indexes, for `--resume`.
    public var id: String
    /// The step's name, or one made from its kind (`run: systemctl restart nginx`).
    public var displayName: String
    public var kind: Kind
    /// False when `when` does not match this host: the step is reported as skipped.
    public var selected: Bool
    /// Content comes from secrets: never diffed, never logged.
    public var sensitive: Bool
    public var become: Bool
    public var cwd: String?
    /// Environment for the step; values may hold secrets and travel on stdin.
    public var env: [String: String]
    public var timeout: Duration?
    public var retries: Int
    public var delay: Duration
    public var creates: String?
    public var unless: String?
    public var ignoreErrors: Bool
    public var notify: [String]
    public var owner: String?
    public var group: String?
    public var mode: UInt32?
    public var parents: Bool
    public var location: SourceLocation?
    /// A script whose CRLF line endings were converted (`line_endings: normalize` on a file
    /// that had some): the host's log says so.
    public var lineEndingsNormalized = false

    public init(
        id: String, displayName: String, kind: Kind, selected: Bool = true,
        sensitive: Bool = false, become: Bool = false, cwd: String? = nil,
        env: [String: String] = [:], timeout: Duration? = nil, retries: Int = 0,
        delay: Duration = .seconds(1), creates: String? = nil, unless: String? = nil,
        ignoreErrors: Bool = false, notify: [String] = [], owner: String? = nil,
        group: String? = nil, mode: UInt32? = nil, parents: Bool = false,
        location: SourceLocation? = nil
    ) {
        self.id = id
        self.displayName = displayName
        self.kind = kind
        self.selected = selected
        self.sensitive = sensitive
        self.become = become
        self.cwd = cwd
        self.env = env
        self.timeout = timeout
        self.retries = retries
        self.delay = delay
        self.creates = creates
        self.unless = unless
        self.ignoreErrors = ignoreErrors
        self.notify = notify
        self.owner = owner
        self.group = group
        self.mode = mode
        self.parents = parents
        self.location = location
    }
}

public struct ResolvedStage: Sendable, Hashable {
    public var name: String
    public var parallel: Int?
    public var steps: [ResolvedStep]

    public init(name: String, parallel: Int?, steps: [ResolvedStep]) {
        self.name = name
        self.parallel = parallel
        self.steps = steps
    }
}

/// Everything one host will do in a run.
public struct HostPlan: Sendable, Hashable {
    public var host: InventoryHost
    public var stages: [ResolvedStage]
    /// Handlers by name, rendered for this host.
    public var handlers: [String: ResolvedStep]

    public init(host: InventoryHost, stages: [ResolvedStage], handlers: [String: ResolvedStep]) {
        self.host = host
        self.stages = stages
        self.handlers = handlers
    }
}

/// Renders every step of `playbook` for each host, with variables in the order
/// defaults < groups < host < playbook < `extraVars` (-e). An undefined variable, a missing
/// file, or a secret on a command line is an error naming where it was used.
/// With `inventory`, the playbook's `hosts:` and every `when:` are also checked for names
/// the inventory does not know.
public func resolvePlans(
    playbook: Playbook, hosts: [InventoryHost], extraVars: [String: String], secrets: Secrets,
    inventory: Inventory? = nil
) throws(DiagnosticError) -> [HostPlan] {
    var resolver = PlanResolver(
        playbook: playbook, secrets: secrets, extraVars: extraVars, inventory: inventory)
    let plans = resolver.plans(for: hosts)
    try resolver.log.check()
    return plans
}

extension DiagnosticError {
    /// The diagnostics as a compiler prints them: `file:line:column: error: message`, the
    /// source line, and a caret under the column.
    public func rendered() -> String {
        diagnostics.map { $0.rendered() }.joined(separator: "\n")
    }
}
