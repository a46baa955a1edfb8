// The fleet's record of what it started, kept in its folder so that another process
// (`flotilla sandbox down|status`) stops exactly those servers and nothing else.

import FoundationEssentials

struct SandboxState: Sendable, Codable {
    var identityFile: String
    var knownHostsFile: String
    var inventoryPath: String
    var authorizedKeys: String
    /// Host keys every server presents besides its own (the fleet's RSA key).
    var sharedHostKeys: [String]
    var ipv6: Bool
    var extraServerConfig: String
    var keepRunning: Bool
    var servers: [SandboxServer]

    static func file(in folder: String) -> String { "\(folder)/sandbox.json" }

    static func load(from folder: String) throws(SandboxError) -> SandboxState {
        let path = file(in: folder)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw SandboxError(
                "no sandbox fleet in \(folder) (\(path) is missing); "
                    + "start one with `flotilla sandbox up`", code: .noFleet)
        }
        do {
            return try JSONDecoder().decode(SandboxState.self, from: data)
        } catch {
            throw SandboxError(
                "\(path) is not a sandbox record (\(error)); stop its servers by hand "
                    + "(`pgrep -af \(folder)`) and remove the file")
        }
    }

    func save(in folder: String) throws(SandboxError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard let data = try? encoder.encode(self) else {
            throw SandboxError("could not encode the sandbox record")
        }
        try TemporaryFile.write(String(decoding: data, as: UTF8.self), to: Self.file(in: folder))
    }
}
