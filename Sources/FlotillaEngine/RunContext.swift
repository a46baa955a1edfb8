// What every host of a run shares: identity of the run, options, where events go.

import FoundationEssentials
import Synchronization

struct RunContext: Sendable {
    let runID: String
    let runFolder: String
    let options: RunOptions
    let hub: EventHub
    /// Handler names in the order the playbook declares them.
    let handlerOrder: [String]
    /// The sudo password for `become`, already resolved from its secret.
    let becomePassword: String?
    /// The secret name `become_password` refers to, for messages.
    let becomePasswordName: String?
    /// Who takes the host locks: `user@machine`.
    let lockOwner: String
    /// Take the per-host lock (a playbook run does; `exec` does not).
    let takesLock: Bool
    /// With `--resume`: per host, the ids of the steps the previous run finished.
    let finishedSteps: [String: Set<String>]
    let resumedFrom: String?
    /// Local files to upload, read once for every host.
    let localFiles = LocalFiles()
}

/// The run's local files, each read the first time a host needs it and then shared: a
/// 100 MB artifact for 50 hosts is 100 MB in memory, not 5 GB, and every host gets the
/// same bytes even if the file changes during the run.
final class LocalFiles: Sendable {
    struct File: Sendable {
        var contents: [UInt8]
        var mode: UInt32
        /// Worked out once, for every host's record of what it wrote.
        var sha256: String
    }

    private let files = Mutex<[String: File]>([:])

    func read(_ path: String) throws -> File {
        if let known = files.withLock({ $0[path] }) { return known }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        let mode = UInt32(attributes[.posixPermissions] as? UInt ?? 0o644)
        let contents = Array(data)
        let file = File(
            contents: contents, mode: mode & 0o777, sha256: Checksum.sha256Hex(contents))
        return files.withLock { files in
            if let raced = files[path] { return raced }
            files[path] = file
            return file
        }
    }
}
