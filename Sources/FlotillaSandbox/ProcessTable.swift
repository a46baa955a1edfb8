// What /proc says about processes: used to stop exactly the servers a fleet started, with
// every connection they forked, and nothing else.

import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum ProcessTable {
    /// The command line of a running process, arguments joined by spaces; nil when the
    /// process is gone or a zombie.
    static func commandLine(of pid: pid_t) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
            !data.isEmpty
        else { return nil }
        let parts = data.split(separator: 0, omittingEmptySubsequences: true)
        return parts.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
    }

    /// Whether `pid` is an sshd started with `configFile` (and not a reused pid).
    static func isServer(_ pid: pid_t, configFile: String) -> Bool {
        guard pid > 0, let line = commandLine(of: pid) else { return false }
        return line.contains("sshd") && line.contains(configFile)
    }

    /// Whether the process exists and has not ended (zombies count as ended).
    static func isRunning(_ pid: pid_t) -> Bool {
        guard let stat = TemporaryFile.read("/proc/\(pid)/stat"),
            let close = stat.lastIndex(of: ")")
        else { return false }
        let state = stat[stat.index(after: close)...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    /// Every process below `root`: children, their children, and so on.
    static func descendants(of root: pid_t) -> [pid_t] {
        var children: [pid_t: [pid_t]] = [:]
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = pid_t(entry), let parent = parent(of: pid) else { continue }
            children[parent, default: []].append(pid)
        }
        var found: [pid_t] = []
        var pending = children[root] ?? []
        while let pid = pending.popLast() {
            found.append(pid)
            pending += children[pid] ?? []
        }
        return found
    }

    private static func parent(of pid: pid_t) -> pid_t? {
        // The name in field 2 may contain spaces and parentheses; fields after the last
        // ")" are fixed: state, then the parent's pid.
        guard let stat = TemporaryFile.read("/proc/\(pid)/stat"),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? pid_t(fields[1]) : nil
    }
}

/// The machine's processes, as tests of the fleet look at them.
public enum LocalProcesses {
    /// How many running processes have exactly this command line (arguments joined by
    /// spaces): a step's `sleep 612` on any sandbox host shows up here.
    public static func count(commandLine: String) -> Int {
        pids(commandLine: commandLine).count
    }

    /// The command line of every running process.
    public static func commandLines() -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(pid_t.init).compactMap(ProcessTable.commandLine(of:))
    }

    /// The running processes with exactly this command line.
    public static func pids(commandLine: String) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(pid_t.init).filter {
            ProcessTable.commandLine(of: $0) == commandLine
        }
    }
}
