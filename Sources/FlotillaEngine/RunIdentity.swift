// Names and fingerprints of a run: its id, who runs it, and a hash of its inputs.

import FoundationEssentials

enum RunIdentity {
    /// `20261203T175001Z-3fa2`: sorts by time, unique enough for one operator.
    static func makeID(at date: Date = Date()) -> String {
        // To the nearest millisecond, then down to the second, as run ids have always been.
        let milliseconds = (date.timeIntervalSince1970 * 1000 + 0.5).rounded(.down)
        let time = idTimeStyle.format(Date(timeIntervalSince1970: milliseconds / 1000))
        let suffix = String(UInt16.random(in: 0...UInt16.max), radix: 16)
        return time + "-" + String(repeating: "0", count: 4 - suffix.count) + suffix
    }

    private static let idTimeStyle = Date.ISO8601FormatStyle(
        dateSeparator: .omitted, dateTimeSeparator: .standard, timeSeparator: .omitted,
        timeZone: .gmt)

    /// `user@machine`, for the host lock.
    static func operatorName(environment: [String: String]) -> String {
        let user = environment["USER"] ?? environment["LOGNAME"] ?? ProcessInfo.processInfo.userName
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
        return URL(fileURLWithPath: full).resolvingSymlinksInPath().path
    }
}
