// The loaded inventory and playbook: plain values, checked and merged, that the engine runs.
// These types are the contract between loading and running; fields may be added, not renamed.

/// A variable's value: YAML scalars are kept as their text.
public indirect enum Value: Sendable, Hashable {
    case string(String)
    case list([Value])
    case map([String: Value])
}

/// A duration written `90s`, `15m`, `1h` (combinations like `1m30s` allowed).
public typealias ConfigDuration = Duration

/// Where a secret's value comes from. Resolved once, before any host is contacted.
public enum SecretSource: Sendable, Hashable {
    case env(String)
    case file(String)
    case command(String)
}

/// Where key material or known_hosts text comes from.
public enum TextSource: Sendable, Hashable {
    /// A path on this machine, `~` already expanded.
    case file(String)
    /// An environment variable holding the text itself (a CI secret).
    case env(String)
}

public enum HostKeyMode: String, Sendable, Hashable {
    case strict
    case acceptNew = "accept-new"
}

/// One host with every setting merged: defaults < groups (parents before children) < host,
/// and `~/.ssh/config` where the inventory is silent.
public struct InventoryHost: Sendable, Hashable {
    /// The inventory's name for the host (its alias).
    public var name: String
    /// Name or IP literal, never bracketed.
    public var address: String
    public var port: Int
    public var user: String
    public var identities: [TextSource]
    public var passphrase: SecretSource?
    public var knownHosts: [TextSource]
    public var hostKeys: HostKeyMode
    /// A pinned `SHA256:…` fingerprint.
    public var fingerprint: String?
    /// Another host of the inventory to reach this one through.
    public var jump: String?
    public var connectTimeout: Duration
    /// Folders prepended to PATH for every step.
    public var path: [String]
    /// The host's variables after merging defaults, groups and the host.
    public var vars: [String: Value]
    /// Every group the host belongs to, directly or through children.
    public var groups: [String]
    /// Where the host is defined.
    public var location: SourceLocation?

    public init(
        name: String, address: String, port: Int = 22, user: String,
        identities: [TextSource] = [], passphrase: SecretSource? = nil,
        knownHosts: [TextSource] = [], hostKeys: HostKeyMode = .strict,
        fingerprint: String? = nil, jump: String? = nil, connectTimeout: Duration = .seconds(10),
        path: [String] = [], vars: [String: Value] = [:], groups: [String] = [],
        location: SourceLocation? = nil
    ) {
        self.name = name
        self.address = address
        self.port = port
        self.user = user
        self.identities = identities
        self.passphrase = passphrase
        self.knownHosts = knownHosts
        self.hostKeys = hostKeys
        self.fingerprint = fingerprint
        self.jump = jump
        self.connectTimeout = connectTimeout
        self.path = path
        self.vars = vars
        self.groups = groups
        self.location = location
    }
}

public struct Group: Sendable, Hashable {
    public var name: String
    public var hosts: [String]
    public var children: [String]
    public var vars: [String: Value]
    public var location: SourceLocation?

    public init(
        name: String, hosts: [String] = [], children: [String] = [],
        vars: [String: Value] = [:], location: SourceLocation? = nil
    ) {
        self.name = name
        self.hosts = hosts
        self.children = children
        self.vars = vars
        self.location = location
    }
}

/// A count or a share of the hosts: `serial: 2`, `serial: "25%"`.
public enum HostCount: Sendable, Hashable {
    case count(Int)
    case percent(Int)

    /// The count for a fleet of `total` hosts; a percentage rounds down but is at least 1
    /// for `serial` (callers decide for `max_failures`).
    public func resolve(total: Int) -> Int {
        switch self {
        case .count(let n): n
        case .percent(let p): total * p / 100
        }
    }
}

/// A step as written in the playbook, with its `{{ }}` templates not yet rendered.
public struct Step: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        /// A shell command or multi-line script.
        case run(String)
        /// A local file (relative to the playbook's folder), uploaded, run, removed.
        case script(path: String, args: String?)
        /// A local file or directory copied to `to`.
        case upload(from: String, to: String)
        /// A local template file rendered and written to `to`.
        case template(from: String, to: String)
        /// A declared secret (`secret: NAME`) or a `content:` template that uses secrets,
        /// written 0600 unless `mode` says otherwise.
        case secret(name: String?, content: String?, to: String)
        /// A remote file copied into the run's folder (`to` names the local file).
        case fetch(from: String, to: String?)
    }

    public var name: String?
    public var kind: Kind
    public var become: Bool
    public var cwd: String?
    public var env: [String: String]
    public var timeout: Duration?
    public var retries: Int
    public var delay: Duration
    public var creates: String?
    public var unless: String?
    /// A host pattern: the step runs only on matching hosts.
    public var when: String?
    public var ignoreErrors: Bool
    public var notify: [String]
    public var owner: String?
    public var group: String?
    /// Permission bits from a quoted octal string (`"0600"`).
    public var mode: UInt32?
    /// Create missing parent folders of the target.
    public var parents: Bool
    public var location: SourceLocation?
    /// What to do with CRLF line endings in a `script:` file (R15).
    public var lineEndings: LineEndings = .check
    /// Where each key's value was written (`run`, `to`, `env.NAME`, …), for diagnostics.
    public var fieldLocations: [String: SourceLocation] = [:]

    public init(
        name: String? = nil, kind: Kind, become: Bool = false, cwd: String? = nil,
        env: [String: String] = [:], timeout: Duration? = nil, retries: Int = 0,
        delay: Duration = .seconds(1), creates: String? = nil, unless: String? = nil,
        when: String? = nil, ignoreErrors: Bool = false, notify: [String] = [],
        owner: String? = nil, group: String? = nil, mode: UInt32? = nil, parents: Bool = false,
        location: SourceLocation? = nil
    ) {
        self.name = name
        self.kind = kind
        self.become = become
        self.cwd = cwd
        self.env = env
        self.timeout = timeout
        self.retries = retries
        self.delay = delay
        self.creates = creates
        self.unless = unless
        self.when = when
        self.ignoreErrors = ignoreErrors
        self.notify = notify
        self.owner = owner
        self.group = group
        self.mode = mode
        self.parents = parents
        self.location = location
    }
}

/// `line_endings:` of a script step.
public enum LineEndings: String, Sendable, Hashable {
    /// A script with CR line endings is an input error (the default).
    case check
    /// CRLF is converted to LF before the script is uploaded.
    case normalize
}

public struct Stage: Sendable, Hashable {
    public var name: String
    /// At most this many hosts at once in this stage.
    public var parallel: Int?
    public var steps: [Step]
    public var location: SourceLocation?

    public init(
        name: String, parallel: Int? = nil, steps: [Step], location: SourceLocation? = nil
    ) {
        self.name = name
        self.parallel = parallel
        self.steps = steps
        self.location = location
    }
}

public struct Handler: Sendable, Hashable {
    public var name: String
    public var step: Step

    public init(name: String, step: Step) {
        self.name = name
        self.step = step
    }
}

public struct SecretDeclaration: Sendable, Hashable {
    public var name: String
    public var source: SecretSource
    public var location: SourceLocation?

    public init(name: String, source: SecretSource, location: SourceLocation? = nil) {
        self.name = name
        self.source = source
        self.location = location
    }
}

public struct Playbook: Sendable, Hashable {
    /// The playbook file; local paths in steps are relative to its folder.
    public var path: String
    public var name: String
    /// A host pattern.
    public var hosts: String
    public var serial: HostCount?
    public var maxFailures: HostCount?
    public var vars: [String: Value]
    public var secrets: [SecretDeclaration]
    public var stages: [Stage]
    public var handlers: [Handler]
    /// `become_password:` names the declared secret that holds the sudo password.
    public var becomePassword: String?
    /// Where `hosts:` was written, for pattern errors.
    public var hostsLocation: SourceLocation?
    /// Problems worth showing that do not stop a run.
    public var warnings: [Diagnostic] = []

    public init(
        path: String, name: String, hosts: String, serial: HostCount? = nil,
        maxFailures: HostCount? = nil, vars: [String: Value] = [:],
        secrets: [SecretDeclaration] = [], stages: [Stage], handlers: [Handler] = []
    ) {
        self.path = path
        self.name = name
        self.hosts = hosts
        self.serial = serial
        self.maxFailures = maxFailures
        self.vars = vars
        self.secrets = secrets
        self.stages = stages
        self.handlers = handlers
    }
}
