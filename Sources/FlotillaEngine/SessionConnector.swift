// Opens SSH sessions for a run. A jump host is connected once and shared by every host that
// goes through it; it is closed when the run ends.

import FlotillaConfig
import FlotillaSSH
import FoundationEssentials

actor SessionConnector: HostConnector {
    private let inventory: Inventory
    private let environment: [String: String]
    private var jumps: [String: Task<Session, any Error>] = [:]

    init(inventory: Inventory, environment: [String: String]) {
        self.inventory = inventory
        self.environment = environment
    }

    func connect(_ host: InventoryHost) async throws(SSHError) -> any HostConnection {
        let jump = try await jumpSession(for: host, depth: 0)
        let options = try Engine.connectOptions(
            for: host, jump: jump, environment: environment)
        return SessionConnection(session: try await Session.connect(options))
    }

    /// Closes the shared jump sessions.
    func closeJumps() async {
        for task in jumps.values {
            if let session = try? await task.value { await session.close() }
        }
        jumps = [:]
    }

    private func jumpSession(for host: InventoryHost, depth: Int) async throws(SSHError)
        -> Session?
    {
        guard let name = host.jump else { return nil }
        guard depth < 8, let jumpHost = inventory.host(named: name) else {
            throw SSHError(
                .connect, alias: host.name,
                endpoint: Endpoint(host: host.address, port: host.port),
                message: "jump host \(name) is not in the inventory (or jumps form a loop);"
                    + " fix `jump:` for \(host.name)")
        }
        let task: Task<Session, any Error>
        if let existing = jumps[name] {
            task = existing
        } else {
            let outer = try await jumpSession(for: jumpHost, depth: depth + 1)
            let environment = self.environment
            task = Task {
                let options = try Engine.connectOptions(
                    for: jumpHost, jump: outer, environment: environment)
                return try await Session.connect(options)
            }
            jumps[name] = task
        }
        do {
            return try await task.value
        } catch let error as SSHError {
            throw error
        } catch {
            throw SSHError(
                .connect, alias: name, message: "could not connect to jump host \(name)",
                detail: "\(error)")
        }
    }
}
