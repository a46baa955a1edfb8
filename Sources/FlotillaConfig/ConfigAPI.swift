// The public face of loading. Bodies marked "not built yet" are filled in by the loader; the
// signatures are what the engine and the CLI build on.

import Foundation

public struct Inventory: Sendable {
    /// Every host, merged, in the order of the files.
    public var hosts: [InventoryHost]
    public var groups: [String: Group]
    /// The files it was loaded from, in order.
    public var files: [String]

    public init(hosts: [InventoryHost], groups: [String: Group], files: [String]) {
        self.hosts = hosts
        self.groups = groups
        self.files = files
    }

    /// Loads and merges inventory files (later files override earlier ones), expands `~`,
    /// and fills gaps from `~/.ssh/config` (`sshConfig`, nil to skip). Reports every problem.
    public static func load(
        files: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
        sshConfig: String? = NSHomeDirectory() + "/.ssh/config"
    ) throws(DiagnosticError) -> Inventory {
        fatalError("not built yet")
    }

    public func host(named name: String) -> InventoryHost? {
        hosts.first { $0.name == name }
    }

    /// The hosts a PATTERN selects, in inventory order: `all`, names, groups, globs,
    /// `!name` to exclude, `&group` to intersect, comma lists. An unknown name is an error.
    public func select(_ pattern: String) throws(DiagnosticError) -> [InventoryHost] {
        fatalError("not built yet")
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
        fatalError("not built yet")
    }

    public func apply(to hosts: [InventoryHost]) -> [InventoryHost] {
        fatalError("not built yet")
    }
}

extension Playbook {
    /// Loads and checks a playbook file: every key, type, duration and mode, every local
    /// file it names, every handler it notifies. Reports every problem.
    public static func load(path: String) throws(DiagnosticError) -> Playbook {
        fatalError("not built yet")
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
        fatalError("not built yet")
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
public func resolvePlans(
    playbook: Playbook, hosts: [InventoryHost], extraVars: [String: String], secrets: Secrets
) throws(DiagnosticError) -> [HostPlan] {
    fatalError("not built yet")
}

extension DiagnosticError {
    /// The diagnostics as a compiler prints them: `file:line:column: error: message`, the
    /// source line, and a caret under the column.
    public func rendered() -> String {
        fatalError("not built yet")
    }
}
