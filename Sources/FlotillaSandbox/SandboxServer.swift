// One sshd of the fleet: its files, its configuration, starting it and stopping it.

import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct SandboxServer: Sendable, Codable {
    var name: String
    var port: Int
    var user: String
    var home: String
    /// The folder with this server's config, host keys, log and pid file.
    var folder: String
    /// The running sshd, or 0 while stopped.
    var pid: Int32
    /// `type base64` of every key the server presents.
    var hostKeys: [String] = []

    var configFile: String { "\(folder)/sshd_config" }
    var logFile: String { "\(folder)/sshd.log" }
    var hostKeyFiles: [String] {
        ["\(folder)/ssh_host_ed25519_key", "\(folder)/ssh_host_ecdsa_key"]
    }

    static let executable = "/usr/sbin/sshd"

    var host: SandboxHost {
        SandboxHost(
            name: name, address: "127.0.0.1", port: port, user: user, home: home, pid: pid,
            hostKeys: hostKeys, configFile: configFile, logFile: logFile)
    }

    /// The sshd_config for this server. `sharedHostKeys` are host keys every server of the
    /// fleet presents (RSA, which is slow to generate).
    func configuration(
        sharedHostKeys: [String], authorizedKeys: String, runsAsRoot: Bool, ipv6: Bool,
        extra: String
    ) -> String {
        var lines = ["# Written by flotilla sandbox; listens on loopback only."]
        lines.append("ListenAddress 127.0.0.1:\(port)")
        if ipv6 { lines.append("ListenAddress [::1]:\(port)") }
        for key in hostKeyFiles + sharedHostKeys { lines.append("HostKey \(key)") }
        lines.append("PidFile \(folder)/sshd.pid")
        if runsAsRoot {
            // sshd reads AuthorizedKeysFile as the logging-in user, who cannot reach a
            // private fleet folder; a root-run command can.
            lines.append("AuthorizedKeysFile none")
            lines.append("AuthorizedKeysCommand /usr/bin/cat \(authorizedKeys)")
            lines.append("AuthorizedKeysCommandUser root")
        } else {
            lines.append("AuthorizedKeysFile \(authorizedKeys)")
        }
        lines += [
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "PermitRootLogin prohibit-password",
            // Tests open many sessions and channels at once.
            "MaxStartups 1000",
            "MaxSessions 1000",
            "MaxAuthTries 20",
            "UseDNS no",
            "PrintMotd no",
            "PrintLastLog no",
            "X11Forwarding no",
            "AllowTcpForwarding yes",
            "Subsystem sftp internal-sftp",
            "LogLevel VERBOSE",
        ]
        if !extra.isEmpty { lines.append(extra) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Starts sshd in the foreground (-D) so this process can wait for it and stop it.
    func start(newSession: Bool) throws(SandboxError) -> ChildProcess {
        try ChildProcess.spawn(
            Self.executable, ["-D", "-e", "-f", configFile], outputFile: logFile,
            newSession: newSession)
    }

    /// Whether the log says the port could not be bound (another program took it).
    var logShowsPortTaken: Bool {
        let log = TemporaryFile.read(logFile) ?? ""
        return log.contains("Address already in use") || log.contains("Cannot bind any address")
    }

    /// How long the log is now: what a restart writes comes after this.
    var logLength: Int {
        (try? FileManager.default.attributesOfItem(atPath: logFile)[.size] as? Int) ?? 0
    }

    /// Whether the log, from `offset` on, says the server bound its port on 127.0.0.1.
    func logShowsListening(after offset: Int) -> Bool {
        guard let data = FileManager.default.contents(atPath: logFile), data.count > offset
        else { return false }
        let text = String(decoding: data[offset...], as: UTF8.self)
        return text.contains("Server listening on 127.0.0.1 port \(port).")
    }

    /// The last lines of the log, for error messages.
    var logTail: String {
        let lines = (TemporaryFile.read(logFile) ?? "").split(separator: "\n")
        return lines.suffix(5).joined(separator: "\n")
    }

    /// Stops the server and every connection it forked. The tree is frozen first, so no
    /// connection can start while it is being taken down. `signal` goes to the listener:
    /// SIGTERM for a clean stop, SIGKILL for a crash.
    func stop(signal: Int32 = SIGTERM) {
        guard ProcessTable.isServer(pid, configFile: configFile) else { return }
        kill(pid, SIGSTOP)
        var frozen: Set<pid_t> = []
        while true {
            let found = Set(ProcessTable.descendants(of: pid)).subtracting(frozen)
            if found.isEmpty { break }
            for child in found { kill(child, SIGSTOP) }
            frozen.formUnion(found)
        }
        for child in frozen { kill(child, SIGKILL) }
        kill(pid, signal)
        kill(pid, SIGCONT)
        waitUntilGone(deadline: ContinuousClock.now + .seconds(5))
    }

    /// Pauses (`SIGSTOP`) or resumes (`SIGCONT`) the server and its connections: a paused
    /// host accepts TCP connections but never answers, like a hung machine.
    func send(_ signal: Int32) {
        guard ProcessTable.isServer(pid, configFile: configFile) else { return }
        kill(pid, signal)
        for child in ProcessTable.descendants(of: pid) { kill(child, signal) }
    }

    /// Reaps the server if it is this process's child, or waits for it to disappear;
    /// kills it outright if it outlives the deadline.
    private func waitUntilGone(deadline: ContinuousClock.Instant) {
        let child = ChildProcess(pid: pid, description: name)
        while ContinuousClock.now < deadline {
            _ = child.endingIfFinished()
            if !ProcessTable.isRunning(pid) { return }
            usleep(10_000)
        }
        if ProcessTable.isServer(pid, configFile: configFile) { kill(pid, SIGKILL) }
        usleep(50_000)
        _ = child.endingIfFinished()
    }
}
