// The program every remote command runs through. The command line the server sees is always
// the same short text (`RemoteProgram.commandLine`); everything else, including environment
// values that may hold secrets and the sudo password, travels on stdin, so nothing secret
// shows in the host's process list or in an SSH environment request.
//
// The outer shell reads its program up to a NUL byte and evaluates it. That program starts
// the step as a job in its own process group (so an interrupt can end the step and all its
// children), reports the group on a marker line, optionally arms a timeout watchdog, waits,
// and reports the exit code on another marker line. Markers go to stderr, start with a
// random tag, and are removed before anyone sees the output.

import FlotillaSupport
import FlotillaConfig
import FoundationEssentials

struct RemoteProgram: Sendable {
    /// What the server runs. It reads the program from stdin; the text before the start tag
    /// (a sudo password sudo did not ask for) is dropped so it can never be evaluated.
    static let commandLine =
        "exec bash -c 'IFS= read -r -d \"\" p; p=${p#*\(startTag)}; eval \"$p\"'"
    static let startTag = "@@FLOTILLA@@"
    /// The host's shell (`HostShell`): reads programs, each after a line with its length in
    /// bytes, and runs them one after another until its stdin closes. `read -N` takes a
    /// program from the pipe in one call (a delimiter makes bash read one byte per call);
    /// `LC_ALL=C` makes it count bytes, not characters. A program that does not start with
    /// the start tag means the stream is out of step: the shell ends rather than guess. A
    /// bash without `read -N` (before 4.1) ends silently, and `HostShell` does without it.
    static let shellCommandLine =
        "exec bash -c 'while IFS= read -r n && LC_ALL=C IFS= read -r -N \"$n\" p 2>/dev/null;"
        + " do case $p in \(startTag)*) eval \"${p#\(startTag)}\";; *) exit 97;; esac; done'"

    /// Whether the step runs through `sudo`, and with which password.
    enum Privilege: Sendable {
        case user
        case sudo(password: String?)
    }

    /// The part that runs as the step's user (after sudo when there is one).
    var payload: String
    var environment: [String: String] = [:]
    /// Folders put in front of PATH.
    var path: [String] = []
    var cwd: String?
    var privilege: Privilege = .user
    /// The remote watchdog ends the step after this long.
    var timeout: Duration?
    /// Marks this command's lines on stderr; random so output cannot imitate it.
    let tag: String

    init(payload: String, tag: String = RemoteProgram.makeTag()) {
        self.payload = payload
        self.tag = tag
    }

    static func makeTag() -> String {
        "@@FL-" + String(UInt64.random(in: 0...UInt64.max), radix: 16) + "@@"
    }

    /// The bytes to send on stdin.
    func stdin() -> [UInt8] {
        var bytes = Array(Self.startTag.utf8) + Array(outer().utf8) + [0]
        switch privilege {
        case .user:
            bytes += Array(Self.startTag.utf8) + Array(inner().utf8) + [0]
        case .sudo(let password):
            if let password { bytes += Array(password.utf8) + [UInt8(ascii: "\n")] }
            bytes += Array(Self.startTag.utf8) + Array(inner().utf8) + [0]
        }
        return bytes
    }

    /// The bytes to send to the host's shell: the program of `stdin()` for a job of the
    /// login user, with its inner part in a variable, since the shell's stdin carries the
    /// next programs and is never the job's. Ends with an end line on both streams. The line
    /// before it gives its length (`shellCommandLine`).
    func shellInput() -> [UInt8] {
        let lines = [
            "m=\(Self.quote(tag))",
            "i=\(Self.quote(inner()))",
        ] + launch(
            // The job sees none of the shell's own variables, like a bash of its own.
            "( set +m; exec </dev/null; unset n p m j r w; eval \"unset i; $i\" )"
        ) + [
            "unset i",
            "printf '%s pgid %s\\n' \"$m\" \"$j\" >&2",
            "wait \"$j\" 2>/dev/null; r=$?",
        ] + (timeout == nil ? [] : ["{ kill -KILL -- -$w; wait \"$w\"; } 2>/dev/null"]) + [
            // One write per stream: each is a packet the server sends and the client reads.
            "printf '%s end\\n' \"$m\"",
            "printf '%s rc %s\\n%s end\\n' \"$m\" \"$r\" \"$m\" >&2",
        ]
        let text = lines.joined(separator: "\n") + "\n"
        let program = Array(Self.startTag.utf8) + Array(text.utf8)
        return Array("\(program.count)\n".utf8) + program
    }

    /// What ends each stream of a job run by the host's shell (right after the job's last
    /// byte, which need not be a newline).
    var endLine: [UInt8] { Array("\(tag) end\n".utf8) }

    /// Starts `job` in a process group of its own, its group in `$j`, and with a timeout the
    /// watchdog that ends it, its pid in `$w`. Job control is on only while they start, and
    /// the shell's own stderr goes nowhere meanwhile: a job that ends before `set +m` would
    /// otherwise have bash print "[1]+ Exit 4 ( … )" among the step's output. The job and
    /// the watchdog keep the real stderr (through descriptor 3).
    private func launch(_ job: String) -> [String] {
        var block = "{ set -m; \(job) 2>&3 3>&- & j=$!; "
        if let timeout {
            let seconds = max(1, Int((timeout.components.seconds)))
            block += "( sleep \(seconds); printf '%s timeout\\n' \"$m\" >&2;"
                + " kill -TERM -- -$j 2>/dev/null; sleep 3; kill -KILL -- -$j 2>/dev/null"
                + " ) </dev/null >/dev/null 2>&3 3>&- & w=$!; "
        }
        return ["exec 3>&2", block + "set +m; } 2>/dev/null", "exec 3>&-"]
    }

    /// Runs as the login user: starts the job, reports its process group, waits, reports.
    private func outer() -> String {
        let read = "IFS= read -r -d \"\" p; p=${p#*\(Self.startTag)}; eval \"unset p; $p\""
        let reader = Self.quote(read)
        let launch: String
        switch privilege {
        case .user:
            // A subshell is a job of its own too, and costs the host a fork, not a new bash.
            launch = "( unset m; \(read) )"
        case .sudo(let password):
            launch = password == nil
                ? "sudo -n -H -- bash -c \(reader)"
                : "sudo -S -p '' -H -- bash -c \(reader)"
        }
        var lines = ["m=\(Self.quote(tag))"]
        lines += self.launch("\(launch) 0<&0")
        lines += [
            "printf '%s pgid %s\\n' \"$m\" \"$j\" >&2",
            "wait \"$j\" 2>/dev/null; r=$?",
        ]
        // The watchdog has nothing left to guard; KILL, since it may hold the stderr open,
        // and reap it quietly so bash does not report the kill.
        if timeout != nil { lines.append("{ kill -KILL -- -$w; wait \"$w\"; } 2>/dev/null") }
        lines += [
            "printf '%s rc %s\\n' \"$m\" \"$r\" >&2",
            "exit \"$r\"",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Runs as the step's user: environment, PATH, folder, then the payload.
    private func inner() -> String {
        var lines: [String] = []
        for key in environment.keys.sorted() {
            lines.append("export \(key)=\(Self.quote(environment[key] ?? ""))")
        }
        if !path.isEmpty {
            let joined = path.map(Self.remotePath).joined(separator: ":")
            lines.append("export PATH=\(joined):\"$PATH\"")
        }
        if let cwd {
            lines.append(
                "cd -- \(Self.remotePath(cwd)) || { printf '%s cwd\\n' \(Self.quote(tag)) >&2;"
                    + " exit 1; }")
        }
        lines.append(payload)
        return lines.joined(separator: "\n") + "\n"
    }

    /// A `run` payload: the script runs in the job's own shell with `set -e`, and an ERR
    /// trap reports the first failing line's number, exit code and PATH. Evaluating it there
    /// costs the host no new bash. A script that asks who it is (`$$`, `$0`, `$PPID`,
    /// `LINENO`, `BASH_SOURCE`, `caller`) gets a bash of its own, which reads it from a file
    /// descriptor (never from a command line) and whose `$$` is the job.
    static func shellScript(_ script: String, tag: String) -> String {
        let report = "printf \"%s err %s %s %s\\n\" " + quote(tag)
        if asksWhoItIs(script) {
            let trap = "exec 3<&-; set -eE; trap 'r=$?; " + report
                + " \"$((LINENO-1))\" \"$r\" \"$PATH\" >&2' ERR"
            let text = trap + "\n" + script + "\n"
            return "s=\(quote(text))\nexec bash /dev/fd/3 3<<<\"$s\""
        }
        // LINENO counts on from the line that started the evaluation: the first line is
        // measured so the trap can report the script's own line numbers.
        return "set -eE; \(lineBase)=$LINENO; trap 'r=$?; " + report
            + " \"$((LINENO-\(lineBase)))\" \"$r\" \"$PATH\" >&2' ERR\n" + script + "\n"
    }

    private static let lineBase = "__flotilla_line"

    private static func asksWhoItIs(_ script: String) -> Bool {
        ["$$", "${$", "$0", "${0", "PPID", "LINENO", "BASH_SOURCE", "BASH_ARGV", "caller"]
            .contains { script.containsBytes(of: $0) }
    }

    /// Single-quotes text for bash.
    static func quote(_ text: String) -> String {
        "'" + text.replacingEvery("'", with: "'\"'\"'") + "'"
    }

    /// A remote path for bash: `~/x` stays relative to the home folder, the rest is quoted.
    static func remotePath(_ path: String) -> String {
        if path == "~" { return "\"$HOME\"" }
        if path.hasPrefix("~/") { return "\"$HOME\"/" + quote(String(path.dropFirst(2))) }
        return quote(path)
    }
}
