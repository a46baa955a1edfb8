// The per-host log files of a run folder: every step's name, command, timestamps, output
// lines, exit status and duration. Everything written here is already redacted. Writes are
// synchronous and in order, so a host's log reads exactly as its output came.

import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

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

    /// One line: time stamp, then the bytes as they came (not decoded). The lock covers
    /// finding the host's file only: hosts on different threads write at the same time, and
    /// one `write` to a file opened to append puts the line whole at its end.
    func write(host: String, time: Date, _ bytes: [UInt8]) {
        var line = Self.timestamp(bytes: time)
        line.append(UInt8(ascii: " "))
        line += bytes
        line.append(UInt8(ascii: "\n"))
        let file = handles.withLock { handles in handle(for: host, in: &handles) }
        file?.write(line)
    }

    func closeAll() {
        handles.withLock { $0 = [:] }
    }

    /// `2026-12-04T16:18:02.339Z`: UTC, milliseconds.
    static func timestamp(_ date: Date) -> String {
        String(decoding: timestamp(bytes: date), as: UTF8.self)
    }

    /// The time stamp made from the calendar fields of gmtime(3): formatting one with
    /// `Date.ISO8601FormatStyle` cost more than writing the line.
    private static func timestamp(bytes date: Date) -> [UInt8] {
        let since = date.timeIntervalSince1970
        var seconds = time_t(since.rounded(.down))
        let millis = min(999, max(0, Int((since - Double(seconds)) * 1000)))
        var fields = tm()
        gmtime_r(&seconds, &fields)
        var text: [UInt8] = []
        text.reserveCapacity(25)
        func put(_ value: Int, _ width: Int, then separator: UInt8) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 {
                text.append(UInt8(48 + (value / divisor) % 10))
                divisor /= 10
            }
            text.append(separator)
        }
        put(Int(fields.tm_year) + 1900, 4, then: UInt8(ascii: "-"))
        put(Int(fields.tm_mon) + 1, 2, then: UInt8(ascii: "-"))
        put(Int(fields.tm_mday), 2, then: UInt8(ascii: "T"))
        put(Int(fields.tm_hour), 2, then: UInt8(ascii: ":"))
        put(Int(fields.tm_min), 2, then: UInt8(ascii: ":"))
        put(Int(fields.tm_sec), 2, then: UInt8(ascii: "."))
        put(millis, 3, then: UInt8(ascii: "Z"))
        return text
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
