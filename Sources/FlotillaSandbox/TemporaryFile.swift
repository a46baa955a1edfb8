// Small file operations the sandbox needs while it prepares servers.

import FlotillaSupport
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum TemporaryFile {
    /// A fresh path in the temporary folder; nothing is created.
    static func path(prefix: String) -> String {
        let folder = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        return "\(folder)/\(prefix)-\(UUID().uuidString)"
    }

    /// The file's text, or nil when it cannot be read.
    static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// Writes `text` to a temporary name beside `path`, then renames it over `path`, so a
    /// reader never sees half a file.
    static func write(_ text: String, to path: String, mode: Int = 0o644) throws(SandboxError) {
        let temporary = "\(path).\(UUID().uuidString).tmp"
        let created = FileManager.default.createFile(
            atPath: temporary, contents: Data(text.utf8),
            attributes: [.posixPermissions: mode])
        guard created, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw SandboxError("could not write \(path); check that its folder is writable")
        }
    }

    /// Creates a folder and its parents.
    static func makeFolder(_ path: String, mode: Int = 0o755) throws(SandboxError) {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true,
                attributes: [.posixPermissions: mode])
        } catch {
            throw SandboxError("could not create the folder \(path): \(error.systemReason)")
        }
    }
}
