import FlotillaSandbox

/// `flotilla sandbox up [N] | down | status`: a local fleet of sshd servers that outlives
/// this process, kept in `.flotilla/sandbox/`.
struct SandboxCommand: Command {
    static let spec = CommandSpec.sandbox
    static let folder = ".flotilla/sandbox"

    enum Action: Sendable, Equatable {
        case up(count: Int, inventoryPath: String)
        case down
        case status
    }

    var action: Action

    init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        let words = arguments.positionals
        let inventoryPath = arguments.value("inventory")
        switch words.first {
        case "up":
            try arguments.expectNoPositionals(after: 2, command: "sandbox")
            var count = 3
            if words.count == 2 {
                guard let n = Int(words[1]), (1...100).contains(n) else {
                    throw UsageError(
                        "N must be a number from 1 to 100 (got '\(words[1])')",
                        command: "sandbox")
                }
                count = n
            }
            action = .up(count: count, inventoryPath: inventoryPath ?? "inventory/sandbox.yml")
        case "down", "status":
            try arguments.expectNoPositionals(after: 1, command: "sandbox")
            guard inventoryPath == nil else {
                throw UsageError("'--inventory' goes with 'up' only", command: "sandbox")
            }
            action = words.first == "down" ? .down : .status
        case let word?:
            throw UsageError("unknown action '\(word)'; use up, down or status", command: "sandbox")
        case nil:
            throw UsageError("missing action: up, down or status", command: "sandbox")
        }
    }

    func run() async throws -> Int32 {
        let out = TextOutput.standardOutput
        switch action {
        case .up(let count, let inventoryPath):
            // A fleet already running is reported and kept, never leaked or doubled; the
            // same request again succeeds, so set-up scripts can run twice.
            let running = ((try? SandboxFleet.status(folder: Self.folder)) ?? [])
                .filter(\.running)
            guard running.isEmpty else {
                out.write(lines: ["sandbox already up: \(running.count) servers"]
                    + Self.table(running))
                guard running.count == count else {
                    throw CommandFailure(
                        "asked for \(count) servers but \(running.count) are running; "
                            + "run `flotilla sandbox down` first",
                        exitCode: 1)
                }
                return 0
            }
            var options = SandboxOptions(
                count: count, folder: Self.folder, inventoryPath: inventoryPath)
            options.keepRunning = true
            options.freshHomes = true
            let fleet = try SandboxFleet.up(options)
            let rows = fleet.hosts.map {
                [$0.name, HostsCommand.address(host: $0.address, port: $0.port), $0.user,
                 "\($0.pid)"]
            }
            out.write(lines: ["sandbox up: \(fleet.hosts.count) servers"]
                + Table(header: ["host", "address", "user", "pid"], rows: rows).lines()
                + ["inventory: \(inventoryPath)", "stop them with: flotilla sandbox down"])
            return 0
        case .down:
            let stopped = try SandboxFleet.down(folder: Self.folder)
            out.write(lines: [
                stopped.isEmpty
                    ? "sandbox down: no server was running"
                    : "sandbox down: stopped \(stopped.joined(separator: ", "))",
            ])
            return 0
        case .status:
            let servers = try SandboxFleet.status(folder: Self.folder)
            out.write(lines: Self.table(servers))
            return servers.allSatisfy(\.running) ? 0 : 1
        }
    }

    private static func table(_ servers: [SandboxHostStatus]) -> [String] {
        let rows = servers.map {
            [$0.host.name, HostsCommand.address(host: $0.host.address, port: $0.host.port),
             $0.host.user, $0.running ? "running" : "stopped"]
        }
        return Table(header: ["host", "address", "user", "state"], rows: rows).lines()
    }
}
