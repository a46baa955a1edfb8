// The local fleet of real OpenSSH servers on 127.0.0.1. Bodies marked "not built yet" are
// filled in by the sandbox implementation; the SSH, engine and CLI tests start fleets
// through this API.

import Foundation

public struct SandboxOptions: Sendable {
    /// How many sshd servers to start.
    public var count: Int
    /// Where the fleet keeps its keys, configs, pids and logs.
    public var folder: String
    /// Where to write the fleet's inventory; its known_hosts goes beside it.
    public var inventoryPath: String
    /// Host names in the inventory: `<prefix>1`, `<prefix>2`, …
    public var namePrefix: String
    /// When root: one Unix user with its own home per host. Otherwise every host logs in as
    /// the current user.
    public var userPerHost: Bool
    /// Lines appended to every server's sshd_config.
    public var extraServerConfig: String

    public init(
        count: Int, folder: String, inventoryPath: String, namePrefix: String = "sandbox-",
        userPerHost: Bool = true, extraServerConfig: String = ""
    ) {
        self.count = count
        self.folder = folder
        self.inventoryPath = inventoryPath
        self.namePrefix = namePrefix
        self.userPerHost = userPerHost
        self.extraServerConfig = extraServerConfig
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
    /// The sshd process.
    public var pid: Int32
}

public struct SandboxError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public final class SandboxFleet: Sendable {
    public let options: SandboxOptions
    public let hosts: [SandboxHost]
    /// The ed25519 private key every host accepts.
    public let identityFile: String
    /// known_hosts with every server's keys, as `[127.0.0.1]:PORT` lines.
    public let knownHostsFile: String

    init(options: SandboxOptions, hosts: [SandboxHost], identityFile: String, knownHostsFile: String) {
        self.options = options
        self.hosts = hosts
        self.identityFile = identityFile
        self.knownHostsFile = knownHostsFile
    }

    /// Starts the servers on free ports of 127.0.0.1, waits until each accepts connections,
    /// and writes the inventory and known_hosts.
    public static func up(_ options: SandboxOptions) throws(SandboxError) -> SandboxFleet {
        fatalError("not built yet")
    }

    /// Stops exactly the processes this fleet started.
    public func down() {
        fatalError("not built yet")
    }
}
