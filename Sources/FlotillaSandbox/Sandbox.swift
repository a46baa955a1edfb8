// The local fleet of real OpenSSH servers on 127.0.0.1: its options, its hosts and its
// errors. The SSH, engine and CLI tests start fleets through `SandboxFleet`.

import FoundationEssentials

public struct SandboxOptions: Sendable {
    /// How many sshd servers to start.
    public var count: Int
    /// Where the fleet keeps its keys, configs, pids and logs.
    public var folder: String
    /// Where to write the fleet's inventory; its known_hosts goes beside it
    /// (`sandbox.yml` → `sandbox_known_hosts`).
    public var inventoryPath: String
    /// Host names in the inventory: `<prefix>1`, `<prefix>2`, …
    public var namePrefix: String
    /// When root: one Unix user with its own home per host (`flotilla-<host name>`, reused
    /// across fleets with the same names). Otherwise every host logs in as the current user.
    public var userPerHost: Bool
    /// Lines appended to every server's sshd_config.
    public var extraServerConfig: String
    /// Servers also listen on [::1] with the same port.
    public var ipv6: Bool
    /// Servers outlive this object and this process (`flotilla sandbox up`); otherwise
    /// they are stopped when the fleet object goes away.
    public var keepRunning: Bool
    /// How long all servers together may take to answer with an SSH banner: a bound
    /// against hangs, generous because test machines are often busy.
    public var startTimeout: Duration
    /// `down()` deletes the folder (keys, configs, logs) after stopping the servers.
    public var removeFolderWhenDown: Bool = false
    /// Empty the homes of reused sandbox users first, so the hosts look new: what an
    /// earlier fleet of the same names left (state files, a lock) cannot make a step look
    /// already done. Off for fleets that may run beside another of the same names.
    public var freshHomes: Bool = false

    public init(
        count: Int, folder: String, inventoryPath: String, namePrefix: String = "sandbox-",
        userPerHost: Bool = true, extraServerConfig: String = "", ipv6: Bool = false,
        keepRunning: Bool = false, startTimeout: Duration = .seconds(60)
    ) {
        self.count = count
        self.folder = folder
        self.inventoryPath = inventoryPath
        self.namePrefix = namePrefix
        self.userPerHost = userPerHost
        self.extraServerConfig = extraServerConfig
        self.ipv6 = ipv6
        self.keepRunning = keepRunning
        self.startTimeout = startTimeout
    }

    /// A fleet in a fresh private folder under the temporary folder, with its inventory
    /// inside it, removed by `down()`: what tests want.
    public static func temporary(
        count: Int, namePrefix: String = "sandbox-", userPerHost: Bool = true,
        extraServerConfig: String = "", ipv6: Bool = false
    ) throws(SandboxError) -> SandboxOptions {
        let folder = try SandboxFleet.makeTemporaryFolder()
        var options = SandboxOptions(
            count: count, folder: folder, inventoryPath: "\(folder)/sandbox.yml",
            namePrefix: namePrefix, userPerHost: userPerHost,
            extraServerConfig: extraServerConfig, ipv6: ipv6)
        options.removeFolderWhenDown = true
        return options
    }
}

/// One server of the fleet.
public struct SandboxHost: Sendable, Hashable {
    /// The inventory name.
    public var name: String
    public var address: String
    public var port: Int
    public var user: String
    public var home: String
    /// The sshd process, or 0 while the server is stopped.
    public var pid: Int32
    /// Every host key the server presents, as `type base64` (ed25519 and ECDSA keys of
    /// its own, and the fleet's shared RSA key).
    public var hostKeys: [String]
    /// The server's sshd_config and log.
    public var configFile: String
    public var logFile: String
}

/// Whether a recorded server is running, for `flotilla sandbox status`.
public struct SandboxHostStatus: Sendable, Hashable {
    public var host: SandboxHost
    public var running: Bool
}

public struct SandboxError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The options cannot make a fleet (no hosts, a name too long for a Unix user).
        case invalidOptions
        /// A fleet is already running in the folder.
        case alreadyRunning
        /// No fleet is recorded in the folder.
        case noFleet
        /// No host of that name in the fleet.
        case unknownHost
        /// No free port could be found or kept.
        case noFreePort
        /// An sshd exited while starting; the message quotes its log.
        case serverFailed
        /// Servers did not answer with a banner in time.
        case startTimeout
        /// Preparing the fleet failed: keys, users, sudo, files.
        case setup
    }

    public var code: Code
    /// What went wrong and what to do next.
    public var message: String
    public init(_ message: String, code: Code = .setup) {
        self.code = code
        self.message = message
    }
    public var description: String { message }
}
