// The public face of running.

import FlotillaConfig
import FlotillaSSH
import FoundationEssentials

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
    /// The name of the secret that holds the sudo password for `become` steps, when it is
    /// not the playbook's `become_password`; without either, sudo must not ask for one.
    public var becomePassword: String?

    public init() {}
}

/// How a run ended: what the recap and `run.json` say.
public struct RunOutcome: Sendable {
    /// PRODUCT §8.
    public var exitCode: Int32
    public var summaries: [HostSummary]
    /// The run folder holding `run.json` and one log per host.
    public var runFolder: String
    /// What `run.json` holds (nil only when the run folder could not be made).
    public var record: RunRecord?

    public init(
        exitCode: Int32, summaries: [HostSummary], runFolder: String, record: RunRecord? = nil
    ) {
        self.exitCode = exitCode
        self.summaries = summaries
        self.runFolder = runFolder
        self.record = record
    }
}

public enum Engine {
    /// Runs a loaded playbook on the planned hosts and reports through `sink`. Cancelling the
    /// calling task interrupts the run (exit 130) after cleaning up on every host.
    public static func run(
        playbook: Playbook, plans: [HostPlan], inventory: Inventory, secrets: Secrets,
        options: RunOptions, sink: any RunEventSink
    ) async -> RunOutcome {
        let environment = ProcessInfo.processInfo.environment
        let connector = SessionConnector(inventory: inventory, environment: environment)
        return await RunDriver(
            playbook: playbook, plans: plans, inventory: inventory, secrets: secrets,
            options: options, sink: sink, connector: connector, environment: environment
        ).run()
    }

    /// Runs one ad-hoc command on every host (`flotilla exec`).
    public static func exec(
        command: String, hosts: [InventoryHost], inventory: Inventory, become: Bool,
        timeout: Duration?, forks: Int, logsFolder: String, sink: any RunEventSink
    ) async -> RunOutcome {
        let environment = ProcessInfo.processInfo.environment
        let connector = SessionConnector(inventory: inventory, environment: environment)
        return await execDriver(
            command: command, hosts: hosts, inventory: inventory, become: become,
            timeout: timeout, forks: forks, logsFolder: logsFolder, sink: sink,
            connector: connector, environment: environment
        ).run()
    }

    /// The run `exec` makes: one stage `exec` with one step, and no lock.
    static func execDriver(
        command: String, hosts: [InventoryHost], inventory: Inventory, become: Bool,
        timeout: Duration?, forks: Int, logsFolder: String, sink: any RunEventSink,
        connector: any HostConnector, environment: [String: String]
    ) -> RunDriver {
        let step = ResolvedStep(
            id: "0/0", displayName: "exec: " + command, kind: .run(command), become: become,
            timeout: timeout)
        let plans = hosts.map {
            HostPlan(host: $0, stages: [ResolvedStage(name: "exec", parallel: nil, steps: [step])],
                     handlers: [:])
        }
        var options = RunOptions()
        options.forks = forks
        options.logsFolder = logsFolder
        let playbook = Playbook(path: "", name: "exec", hosts: "", stages: [])
        return RunDriver(
            playbook: playbook, plans: plans, inventory: inventory,
            secrets: Secrets(values: [:]), options: options, sink: sink, connector: connector,
            environment: environment, takesLock: false)
    }

    /// The SSH connection settings for an inventory host: identities, host-key policy,
    /// timeouts. `jump` is the already open session of the host's jump host.
    public static func connectOptions(
        for host: InventoryHost, jump: Session? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SSHError) -> ConnectOptions {
        try ConnectionSettings(host: host, environment: environment).options(jump: jump)
    }
}
