// The per-host lock: a folder made atomically with `mkdir`, holding an `owner` file that says
// who holds it, from which run, and since when. A second run fails fast and names the holder.

import FoundationEssentials

struct HostLock: Sendable {
    static let folder = "~/.flotilla/lock"

    var owner: String
    var runID: String
    var since: Date

    /// Acquires the lock (and makes the run's private temp folder) in one command. Prints the
    /// home folder on the first line, then `locked` or `busy` and the holder's owner file.
    func acquireProgram(tempFolder: String, lock: Bool) -> String {
        var lines = [
            "printf '%s\\n' \"$HOME\"",
            "umask 077",
            "mkdir -p -- \"$HOME/.flotilla/tmp\" \(RemoteProgram.remotePath(tempFolder))"
                + " && chmod 700 \"$HOME/.flotilla\" \"$HOME/.flotilla/tmp\" || exit 3",
        ]
        if lock {
            let text = "owner=\(owner)\npid=\(ProcessInfo.processInfo.processIdentifier)\n"
                + "run=\(runID)\nsince=\(Self.iso(since))\n"
            lines += [
                "if mkdir -- \"$HOME/.flotilla/lock\" 2>/dev/null; then",
                "  printf '%s' \(RemoteProgram.quote(text)) > \"$HOME/.flotilla/lock/owner\"",
                "  echo locked",
                "else",
                "  echo busy; cat -- \"$HOME/.flotilla/lock/owner\" 2>/dev/null",
                "fi",
            ]
        }
        return lines.joined(separator: "\n")
    }

    /// Removes the lock only when this run holds it, and the run's temp folder, with one
    /// command: the owner file is read by the shell itself.
    func releaseProgram(tempFolder: String, lock: Bool) -> String {
        var lines: [String] = []
        var lockFolder = ""
        if lock {
            lines += [
                "own=",
                "while IFS= read -r l; do [ \"$l\" = \(RemoteProgram.quote("run=" + runID)) ]"
                    + " && own=1; done 2>/dev/null < \"$HOME/.flotilla/lock/owner\"",
            ]
            lockFolder = " ${own:+\"$HOME/.flotilla/lock\"}"
        }
        lines.append("rm -rf -- \(RemoteProgram.remotePath(tempFolder))\(lockFolder)")
        lines.append("exit 0")
        return lines.joined(separator: "\n")
    }

    /// The message for a host whose lock another run holds, from that run's owner file.
    static func busyMessage(host: String, ownerFile: String) -> String {
        var fields: [String: String] = [:]
        for line in ownerFile.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        let who = fields["owner"] ?? "an unknown run"
        var text = "\(host) is locked by \(who)"
        if let run = fields["run"] { text += " (run \(run))" }
        if let since = fields["since"] { text += " since \(since)" }
        return text + "; if that run is gone, run `rm -r \(folder)` on \(host)"
    }

    static func iso(_ date: Date) -> String {
        Date.ISO8601FormatStyle().format(date)
    }
}
