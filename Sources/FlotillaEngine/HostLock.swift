// The per-host lock: a file made atomically (the shell's noclobber opens it with O_EXCL)
// that says who holds it, from which run, and since when. A second run fails fast and names
// the holder. Taking and releasing it start no process on the host but one `install` and
// one `rm`.

import FoundationEssentials

struct HostLock: Sendable {
    static let path = "~/.flotilla/lock"

    var owner: String
    var runID: String
    var since: Date

    /// Takes the lock, and makes the run's private temp folder when `tempFolder` is given,
    /// in one program. Prints the home folder on the first line, the pid of the shell that
    /// runs it on the second (`$$` is the parent's in a job), then `locked`, or `busy` and
    /// what the holder wrote.
    func acquireProgram(tempFolder: String?, lock: Bool) -> String {
        var lines = ["printf '%s\\n%s\\n' \"$HOME\" \"$$\""]
        var folders = ["\"$HOME/.flotilla\""]
        if let tempFolder {
            folders += ["\"$HOME/.flotilla/tmp\"", RemoteProgram.remotePath(tempFolder)]
        }
        if tempFolder != nil {
            // One process makes whichever folders are missing and narrows every one to 0700,
            // also when an older one was wider: the run's files go through them.
            lines.append("install -d -m 700 -- \(folders.joined(separator: " ")) || exit 3")
        } else if lock {
            // The lock alone holds nothing private: a folder that is there will do.
            lines.append(
                "[ -d \"$HOME/.flotilla\" ] || install -d -m 700 -- \"$HOME/.flotilla\" || exit 3")
        }
        if lock {
            let text = "owner=\(owner)\npid=\(ProcessInfo.processInfo.processIdentifier)\n"
                + "run=\(runID)\nsince=\(Self.iso(since))\n"
            lines += [
                "umask 077",
                "set -C",
                "if { printf '%s' \(RemoteProgram.quote(text)) > \"$HOME/.flotilla/lock\"; }"
                    + " 2>/dev/null; then",
                "  echo locked",
                "else",
                // A lock folder with an owner file inside is what earlier releases made.
                "  echo busy; cat -- \"$HOME/.flotilla/lock\" \"$HOME/.flotilla/lock/owner\""
                    + " 2>/dev/null",
                "fi",
                "exit 0",
            ]
        }
        return lines.joined(separator: "\n")
    }

    /// Removes the lock only when this run holds it, and the run's temp folder when it made
    /// one, with at most one process: the lock file is read by the shell itself.
    func releaseProgram(tempFolder: String?, lock: Bool) -> String {
        var lines: [String] = []
        var remove = tempFolder.map { [RemoteProgram.remotePath($0)] } ?? []
        if lock {
            lines += [
                "own=",
                "while IFS= read -r l; do [ \"$l\" = \(RemoteProgram.quote("run=" + runID)) ]"
                    + " && own=1; done 2>/dev/null < \"$HOME/.flotilla/lock\"",
            ]
            remove.append("${own:+\"$HOME/.flotilla/lock\"}")
        }
        if tempFolder != nil {
            lines.append("rm -rf -- \(remove.joined(separator: " "))")
        } else if lock {
            lines.append("if [ -n \"$own\" ]; then rm -f -- \"$HOME/.flotilla/lock\"; fi")
        }
        lines.append("exit 0")
        return lines.joined(separator: "\n")
    }

    /// The message for a host whose lock another run holds, from what that run wrote.
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
        return text + "; if that run is gone, run `rm -r \(path)` on \(host)"
    }

    static func iso(_ date: Date) -> String {
        Date.ISO8601FormatStyle().format(date)
    }
}
