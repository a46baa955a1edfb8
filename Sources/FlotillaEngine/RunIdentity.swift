// Names and fingerprints of a run: its id, who runs it, and a hash of its inputs.

import Foundation

enum RunIdentity {
    /// `20261203T175001Z-3fa2`: sorts by time, unique enough for one operator.
    static func makeID(at date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let suffix = String(UInt16.random(in: 0...UInt16.max), radix: 16)
        return formatter.string(from: date) + "-" + String(repeating: "0", count: 4 - suffix.count)
            + suffix
    }

    /// `user@machine`, for the host lock.
    static func operatorName(environment: [String: String]) -> String {
        let user = environment["USER"] ?? environment["LOGNAME"] ?? NSUserName()
        let machine = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init)
            ?? "localhost"
        return "\(user)@\(machine)"
    }

    /// SHA-256 over the named files' contents (missing files count as empty).
    static func inputHash(files: [String]) -> String {
        var bytes: [UInt8] = []
        for file in files {
            bytes += Array(file.utf8) + [0]
            if let data = FileManager.default.contents(atPath: file) { bytes += Array(data) }
            bytes.append(0)
        }
        return Checksum.sha256Hex(bytes)
    }

    /// An absolute, tidy form of a local path, so runs started from different folders match.
    static func absolute(_ path: String) -> String {
        guard !path.isEmpty else { return path }
        let full = path.hasPrefix("/")
            ? path : FileManager.default.currentDirectoryPath + "/" + path
        return (full as NSString).standardizingPath
    }
}
