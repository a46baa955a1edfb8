// The per-host log files of a run folder: every step's name, command, timestamps, output
// lines, exit status and duration. Everything written here is already redacted. Writes are
// synchronous and in order, so a host's log reads exactly as its output came.

import FoundationEssentials
import Synchronization

final class RunLog: Sendable {
    private let folder: String
    private let handles = Mutex<[String: AppendingFile]>([:])

    init(folder: String) {
        self.folder = folder
    }

    /// A file name made from a host alias: letters, digits, `-`, `_` and `.` are kept.
    static func fileName(for host: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        var name = String(host.map { allowed.contains($0) ? $0 : "_" })
        if name.isEmpty || name.hasPrefix(".") { name = "_" + name }
        return name
    }

    func write(host: String, time: Date, _ text: String) {
        write(host: host, time: time, Array(text.utf8))
    }

    /// One line: time stamp, then the bytes as they came (not decoded).
    func write(host: String, time: Date, _ bytes: [UInt8]) {
        var line = Array((Self.timestamp(time) + " ").utf8)
        line += bytes
        line.append(UInt8(ascii: "\n"))
        handles.withLock { handles in
            handle(for: host, in: &handles)?.write(line)
        }
    }

    func closeAll() {
        handles.withLock { $0 = [:] }
    }

    /// A value, so sharing it between hosts needs no lock; making a formatter for each line
    /// cost more than writing the line.
    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    static func timestamp(_ date: Date) -> String {
        style.format(date)
    }

    private func handle(
        for host: String, in handles: inout [String: AppendingFile]
    ) -> AppendingFile? {
        if let handle = handles[host] { return handle }
        let path = folder + "/" + Self.fileName(for: host) + ".log"
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(
                atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        }
        guard let handle = AppendingFile(path: path) else { return nil }
        handles[host] = handle
        return handle
    }
}
