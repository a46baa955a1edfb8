// The public face of running. Bodies marked "not built yet" are filled in by the engine.

import FlotillaConfig
import FlotillaSSH
import Foundation

public struct RunOptions: Sendable {
    /// Change nothing: report which files would change and which commands would run.
    public var check = false
    /// Show the text diff of files that would change (never of secrets).
    public var diff = false
    /// At most this many hosts connect and run at once.
    public var forks = 50
    /// Parent of the run folders; each run gets `<logs>/<run-id>/`.
    public var logsFolder = ".flotilla/runs"
    /// Continue the last run of the same playbook and inventory.
    public var resume = false
    /// Run only these stages (all when empty).
    public var stages: [String] = []

    public init() {}
}

/// How a run ended: what the recap and `run.json` say.
public struct RunOutcome: Sendable {
    /// PRODUCT §8.
    public var exitCode: Int32
    public var summaries: [HostSummary]
    /// The run folder holding `run.json` and one log per host.
    public var runFolder: String

    public init(exitCode: Int32, summaries: [HostSummary], runFolder: String) {
        self.exitCode = exitCode
        self.summaries = summaries
        self.runFolder = runFolder
    }
}

public enum Engine {
    /// Runs a loaded playbook on the planned hosts and reports through `sink`. Cancelling the
    /// calling task interrupts the run (exit 130) after cleaning up on every host.
    public static func run(
        playbook: Playbook, plans: [HostPlan], inventory: Inventory, secrets: Secrets,
        options: RunOptions, sink: any RunEventSink
    ) async -> RunOutcome {
        fatalError("not built yet")
    }

    /// Runs one ad-hoc command on every host (`flotilla exec`).
    public static func exec(
        command: String, hosts: [InventoryHost], inventory: Inventory, become: Bool,
        timeout: Duration?, forks: Int, logsFolder: String, sink: any RunEventSink
    ) async -> RunOutcome {
        fatalError("not built yet")
    }

    /// The SSH connection settings for an inventory host: identities, host-key policy,
    /// timeouts. `jump` is the already open session of the host's jump host.
    public static func connectOptions(
        for host: InventoryHost, jump: Session? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SSHError) -> ConnectOptions {
        fatalError("not built yet")
    }
}
