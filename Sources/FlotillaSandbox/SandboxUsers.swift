// Unix users for the fleet's hosts: one per host when running as root, each with its own
// home and password-less sudo, so tests see what a real deploy user sees.

import FlotillaSupport
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum SandboxUsers {
    /// A login user and its home folder.
    struct Account: Sendable {
        var name: String
        var home: String
    }

    /// useradd takes a lock on /etc/passwd; concurrent fleets in one process take turns.
    private static let lock = Mutex(())

    /// The user running Flotilla.
    static func current() -> Account {
        guard let entry = getpwuid(getuid()) else {
            return Account(
                name: ProcessInfo.processInfo.userName,
                home: FileManager.default.homeDirectoryForCurrentUser.path)
        }
        return Account(name: String(cString: entry.pointee.pw_name),
                       home: String(cString: entry.pointee.pw_dir))
    }

    /// The sandbox user for a host, `flotilla-<host>`, created with a home, bash and
    /// password-less sudo when missing; an existing one is reused, with its home emptied
    /// when `freshHome` is set.
    static func ensure(host: String, freshHome: Bool) throws(SandboxError) -> Account {
        let name = "flotilla-\(host)"
        guard name.count <= 32, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" })
        else {
            throw SandboxError(
                "the host name \(host) cannot make the Unix user \(name); use a shorter "
                    + "name prefix of letters, digits and dashes", code: .invalidOptions)
        }
        return try lock.withLock { _ throws(SandboxError) in
            if lookup(name) == nil { try create(name) }
            try unlockPasswordlessLogin(name)
            try grantSudo(name)
            guard let account = lookup(name) else {
                throw SandboxError("the user \(name) was created but cannot be found")
            }
            if freshHome { try resetHome(account) }
            return account
        }
    }

    /// Empties a sandbox user's home and puts the skeleton files back, as on a new machine:
    /// what an earlier fleet of the same names left (state files, a lock) must not make a
    /// step of this one look already done. Only a home named after its sandbox user is
    /// touched.
    private static func resetHome(_ account: Account) throws(SandboxError) {
        guard account.name.hasPrefix("flotilla-"),
            URL(fileURLWithPath: account.home).lastPathComponent == account.name
        else { return }
        let files = FileManager.default
        for entry in (try? files.contentsOfDirectory(atPath: account.home)) ?? [] {
            do {
                try files.removeItem(atPath: account.home + "/" + entry)
            } catch {
                throw SandboxError(
                    "could not empty \(account.home) for a fresh host: \(error.systemReason)")
            }
        }
        if files.fileExists(atPath: "/etc/skel") {
            try ChildProcess.check("/bin/cp", ["-a", "/etc/skel/.", account.home])
        }
        try ChildProcess.check("/bin/chown", ["-R", "\(account.name):", account.home])
    }

    private static func lookup(_ name: String) -> Account? {
        guard let entry = getpwnam(name) else { return nil }
        return Account(name: name, home: String(cString: entry.pointee.pw_dir))
    }

    private static func create(_ name: String) throws(SandboxError) {
        // Another program may hold the passwd lock for a moment (exit status 10).
        for attempt in 0..<20 {
            let (ending, output) = try ChildProcess.run(
                "/usr/sbin/useradd",
                ["-m", "-s", "/bin/bash", "-p", "*", "-c", "Flotilla sandbox host", name])
            if ending == .exited(0) || lookup(name) != nil { return }
            if ending != .exited(10) || attempt == 19 {
                throw SandboxError("could not create the user \(name): \(output.trimmed)")
            }
            usleep(100_000)
        }
    }

    /// A password field starting with "!" means locked, and sshd without PAM then refuses
    /// even key logins; "*" means no password but a usable account.
    private static func unlockPasswordlessLogin(_ name: String) throws(SandboxError) {
        let shadow = TemporaryFile.read("/etc/shadow") ?? ""
        let entry = shadow.split(separator: "\n").first { $0.hasPrefix("\(name):") }
        let password = entry?.split(separator: ":", omittingEmptySubsequences: false)
            .dropFirst().first
        guard let password, password.hasPrefix("!") else { return }
        try ChildProcess.check("/usr/sbin/usermod", ["-p", "*", name])
    }

    /// A sudoers.d file per user, checked with visudo before it is put in place, so a bad
    /// file can never lock sudo out.
    private static func grantSudo(_ name: String) throws(SandboxError) {
        let file = "/etc/sudoers.d/\(name)"
        let rule = "\(name) ALL=(ALL:ALL) NOPASSWD: ALL\n"
        if TemporaryFile.read(file) == rule { return }
        guard FileManager.default.fileExists(atPath: "/usr/sbin/visudo") else {
            throw SandboxError(
                "sudo is not installed, so sandbox users cannot use become; "
                    + "run scripts/install-deps.sh")
        }
        // sudo ignores names with a dot, so the temporary file is inert until renamed.
        let temporary = "/etc/sudoers.d/.\(name).new"
        guard FileManager.default.createFile(
            atPath: temporary, contents: Data(rule.utf8), attributes: [.posixPermissions: 0o440])
        else { throw SandboxError("could not write \(temporary)") }
        do {
            try ChildProcess.check("/usr/sbin/visudo", ["-cf", temporary])
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, file) == 0 else {
            unlink(temporary)
            throw SandboxError("could not install \(file)")
        }
    }
}
