import FlotillaSandbox
import Foundation

/// A sandbox fleet for one test and a scratch folder to run `flotilla` in; the servers are
/// stopped and the folder removed afterwards, also when the test fails.
enum CLIFleet {
    /// `prefix` names the hosts (`gh-1`, …) and their Unix users, so tests running at the
    /// same time never share a host's home or lock.
    static func with<T: Sendable>(
        count: Int, prefix: String,
        _ body: @Sendable (SandboxFleet, ScratchFolder) async throws -> T
    ) async throws -> T {
        var options = try SandboxOptions.temporary(count: count, namePrefix: prefix)
        // Each test has its own prefix: nothing else uses these homes, and what an earlier
        // run left there (a lock after an interrupt) must not change this one.
        options.freshHomes = true
        let folder = try ScratchFolder()
        defer { folder.remove() }
        return try await SandboxFleet.withFleet(options) { fleet in try await body(fleet, folder) }
    }
}
