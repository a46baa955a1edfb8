import FlotillaConfig
import FlotillaEngine
import FlotillaSSH
import FoundationEssentials

/// `flotilla ping`: connect, verify the host key and authenticate on every selected host,
/// at most `--forks` at once, and run nothing.
struct PingCommand: Command {
    static let spec = CommandSpec.ping

    /// What one host answered.
    struct Result: Sendable {
        var host: InventoryHost
        var hostKey: String
        var auth: String
        var duration: Duration
        var error: SSHError?
    }

    var inventory: InventoryChoice
    var forks: Int
    var environment: [String: String]

    init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        try arguments.expectNoPositionals(command: "ping")
        inventory = InventoryChoice(arguments, environment: environment)
        forks = try RunCommand.forks(arguments, command: "ping") ?? RunOptions().forks
        self.environment = environment
    }

    func run() async throws -> Int32 {
        let inventory = try self.inventory.load()
        let hosts = try self.inventory.select(in: inventory)
        let environment = self.environment

        var results: [String: Result] = [:]
        await withTaskGroup(of: Result.self) { group in
            var next = hosts.startIndex
            func startNext() {
                guard next < hosts.endIndex else { return }
                let host = hosts[next]
                next += 1
                group.addTask {
                    await Self.ping(host, inventory: inventory, environment: environment)
                }
            }
            for _ in 0..<min(forks, hosts.count) { startNext() }
            for await result in group {
                results[result.host.name] = result
                startNext()
            }
        }

        let ordered = hosts.compactMap { results[$0.name] }
        let table = Table(
            header: ["host", "address", "host key", "auth", "time"],
            rows: ordered.map {
                [$0.host.name, HostsCommand.address($0.host), $0.hostKey, $0.auth,
                 $0.duration.display]
            })
        var lines = table.lines()
        let failures = ordered.compactMap(\.error)
        if !failures.isEmpty {
            lines.append("")
            lines += failures.map { "error: \($0)" }
        }
        TextOutput.standardOutput.write(lines: lines)
        return failures.isEmpty ? 0 : 3
    }

    static func ping(
        _ host: InventoryHost, inventory: Inventory, environment: [String: String]
    ) async -> Result {
        let clock = ContinuousClock()
        let start = clock.now
        var jumpSession: Session?
        do throws(SSHError) {
            if let jumpName = host.jump, let jumpHost = inventory.host(named: jumpName) {
                jumpSession = try await Session.connect(
                    Engine.connectOptions(for: jumpHost, environment: environment))
            }
            let options = try Engine.connectOptions(
                for: host, jump: jumpSession, environment: environment)
            let session = try await Session.connect(options)
            await session.close()
            await jumpSession?.close()
            return Result(host: host, hostKey: "ok", auth: "ok", duration: clock.now - start)
        } catch {
            await jumpSession?.close()
            let (hostKey, auth) = Self.columns(for: error.code)
            return Result(
                host: host, hostKey: hostKey, auth: auth, duration: clock.now - start,
                error: error)
        }
    }

    /// What the host key and auth columns say for a failure.
    static func columns(for code: SSHError.Code) -> (hostKey: String, auth: String) {
        switch code {
        case .hostKeyUnknown: ("unknown", "-")
        case .hostKeyChanged: ("CHANGED", "-")
        case .hostKeyRevoked: ("revoked", "-")
        case .knownHostsInvalid: ("unreadable", "-")
        case .authenticationFailed, .keyInvalid: ("ok", "failed")
        case .resolve: ("-", "unresolved")
        case .connect: ("-", "refused")
        case .connectTimeout: ("-", "timeout")
        default: ("-", code.rawValue)
        }
    }
}
