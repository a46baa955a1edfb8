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
            guard words.count <= 2 else {
                throw UsageError("unexpected argument '\(words[2])'", command: "sandbox")
            }
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
            guard words.count == 1 else {
                throw UsageError("unexpected argument '\(words[1])'", command: "sandbox")
            }
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
            let fleet = try SandboxFleet.up(
                SandboxOptions(count: count, folder: Self.folder, inventoryPath: inventoryPath))
            let rows = fleet.hosts.map {
                [$0.name, "\($0.address):\($0.port)", $0.user, "\($0.pid)"]
            }
            out.write(lines: ["sandbox up: \(fleet.hosts.count) servers"]
                + Table(header: ["host", "address", "user", "pid"], rows: rows).lines()
                + ["inventory: \(inventoryPath)", "stop them with: flotilla sandbox down"])
            return 0
        case .down, .status:
            throw CommandFailure("sandbox down and status are not available yet", exitCode: 1)
        }
    }
}
