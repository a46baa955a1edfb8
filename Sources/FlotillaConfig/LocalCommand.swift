// Running a shell command on this machine to its end, for secret and passphrase commands.
// Its output is read as it comes, so a command that prints much never blocks on a full
// pipe; one that outlives its time or its task is ended with its whole process group and
// reaped, so nothing it started is left behind.

import FlotillaSupport
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

package struct LocalCommand: Sendable {
    /// Where the command's standard error goes.
    package enum ErrorOutput: Sendable {
        case discarded
        case inherited
        case captured
    }

    /// How the command ended.
    package enum Ending: Sendable, Equatable {
        case exited(Int32)
        case signalled(Int32)

        /// The exit status, or the number of the signal that killed the command.
        package var status: Int32 {
            switch self {
            case .exited(let code), .signalled(let code): code
            }
        }
    }

    package struct Finished: Sendable {
        package var ending: Ending
        package var output: [UInt8]
        /// Empty unless standard error is `.captured`.
        package var errorOutput: [UInt8]
    }

    package enum Failure: Error, Sendable, Equatable {
        /// posix_spawn refused, with its error number.
        case cannotStart(Int32)
        case timedOut
        case cancelled
    }

    /// The text given to `/bin/sh -c`.
    package var command: String
    /// The command's whole environment; nil passes this process's own.
    package var environment: [String: String]?
    /// The folder the command runs in; empty for this process's current folder.
    package var folder: String
    package var errorOutput: ErrorOutput
    /// How long the command may run; nil waits for as long as it takes.
    package var timeout: Duration?

    /// How long a command has to end after SIGTERM before its process group is killed.
    static let gracePeriod: Duration = .seconds(3)

    package init(
        shell command: String, environment: [String: String]? = nil, folder: String = "",
        errorOutput: ErrorOutput, timeout: Duration? = nil
    ) {
        self.command = command
        self.environment = environment
        self.folder = folder
        self.errorOutput = errorOutput
        self.timeout = timeout
    }

    /// Starts the command with standard input on /dev/null and waits for it to end. A
    /// cancelled task ends it within a tenth of a second.
    package func run() -> Result<Finished, Failure> {
        let child: SpawnedCommand
        switch spawn() {
        case .success(let spawned): child = spawned
        case .failure(let failure): return .failure(failure)
        }
        defer { for fd in child.pipes { close(fd) } }
        let deadline = timeout.map { ContinuousClock.now + $0 }

        var captured = [[UInt8]](repeating: [], count: child.pipes.count)
        var open = Array(child.pipes.indices)
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while !open.isEmpty {
            if let reason = Self.reasonToStop(deadline) {
                Self.end(child.pid)
                return .failure(reason)
            }
            var polled = open.map { pollfd(fd: child.pipes[$0], events: Int16(POLLIN), revents: 0) }
            guard poll(&polled, nfds_t(polled.count), Self.pollMilliseconds(deadline)) > 0 else {
                continue
            }
            for (slot, entry) in zip(open, polled) where entry.revents != 0 {
                let count = read(entry.fd, &chunk, chunk.count)
                if count > 0 {
                    captured[slot] += chunk[..<count]
                } else if count == 0 || errno != EINTR {
                    open.removeAll { $0 == slot }
                }
            }
        }

        // The pipes reach their end when the command exits, or closes them early.
        while true {
            var status: Int32 = 0
            let result = waitpid(child.pid, &status, WNOHANG)
            if result == child.pid || (result == -1 && errno == ECHILD) {
                let ending = result == child.pid ? Self.ending(status) : .exited(-1)
                return .success(
                    Finished(
                        ending: ending, output: captured[0],
                        errorOutput: captured.count > 1 ? captured[1] : []))
            }
            if let reason = Self.reasonToStop(deadline) {
                Self.end(child.pid)
                return .failure(reason)
            }
            usleep(10_000)
        }
    }

    private struct SpawnedCommand {
        var pid: pid_t
        /// The read ends of standard output and, when captured, standard error.
        var pipes: [Int32]
    }

    /// Pipes are made and the command spawned under this lock, so a pipe of one command
    /// never leaks into another started at the same moment, before close-on-exec is set.
    private static let spawning = Mutex(())

    private func spawn() -> Result<SpawnedCommand, Failure> {
        Self.spawning.withLock { _ in
            var pipes: [(read: Int32, write: Int32)] = []
            defer { for pipe in pipes { close(pipe.write) } }
            for _ in 0..<(errorOutput == .captured ? 2 : 1) {
                var fds: [Int32] = [-1, -1]
                guard pipe(&fds) == 0 else {
                    let number = errno
                    for pipe in pipes { close(pipe.read) }
                    return .failure(.cannotStart(number))
                }
                for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
                pipes.append((fds[0], fds[1]))
            }

            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, pipes[0].write, 1)
            switch errorOutput {
            case .discarded:
                posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            case .inherited:
                break
            case .captured:
                posix_spawn_file_actions_adddup2(&actions, pipes[1].write, 2)
            }
            // Descriptors this process was given without close-on-exec stay out of reach.
            closeInheritedDescriptors(&actions)
            if !folder.isEmpty {
                guard let changeFolder = Self.addChangeFolder else {
                    return .failure(.cannotStart(ENOSYS))
                }
                _ = changeFolder(&actions, folder)
            }

            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            // A group of its own, so that ending the command ends what it started too; and
            // the signals this process blocks or ignores are the command's defaults again.
            posix_spawnattr_setpgroup(&attributes, 0)
            let signalFlags = defaultSignals(&attributes)
            posix_spawnattr_setflags(&attributes, Int16(Int32(POSIX_SPAWN_SETPGROUP) | signalFlags))

            let arguments = ["/bin/sh", "-c", command].map { (text: String) in strdup(text) }
            defer { arguments.forEach { free($0) } }
            let variables = environment.map { pairs in
                pairs.map { strdup("\($0.key)=\($0.value)") }
            }
            defer { variables?.forEach { free($0) } }
            var pid: pid_t = 0
            let result: Int32
            if let variables {
                result = posix_spawn(
                    &pid, "/bin/sh", &actions, &attributes, arguments + [nil], variables + [nil])
            } else {
                result = posix_spawn(
                    &pid, "/bin/sh", &actions, &attributes, arguments + [nil], environ)
            }
            guard result == 0 else {
                for pipe in pipes { close(pipe.read) }
                return .failure(.cannotStart(result))
            }
            return .success(SpawnedCommand(pid: pid, pipes: pipes.map(\.read)))
        }
    }

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29 and later): a GNU extension,
    /// so its declaration is hidden from Swift and it is looked up by name.
    private typealias ChangeFolder = @convention(c) (
        UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>
    ) -> Int32

    private static let addChangeFolder: ChangeFolder? = {
        dlsym(nil, "posix_spawn_file_actions_addchdir_np").map {
            unsafeBitCast($0, to: ChangeFolder.self)
        }
    }()

    private static func reasonToStop(_ deadline: ContinuousClock.Instant?) -> Failure? {
        if Task.isCancelled { return .cancelled }
        if let deadline, ContinuousClock.now >= deadline { return .timedOut }
        return nil
    }

    /// At most a tenth of a second, so cancellation is noticed; less when the deadline is
    /// nearer.
    private static func pollMilliseconds(_ deadline: ContinuousClock.Instant?) -> Int32 {
        guard let deadline else { return 100 }
        let left = (deadline - ContinuousClock.now).components
        let milliseconds = left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000
        return Int32(max(0, min(100, milliseconds)))
    }

    /// SIGTERM to the command's process group; SIGKILL to whatever is left of it after the
    /// grace period; then the command is reaped. The command is not reaped before the
    /// SIGKILL, so its group id cannot have passed to another process.
    private static func end(_ pid: pid_t) {
        kill(-pid, SIGTERM)
        let graceEnds = ContinuousClock.now + gracePeriod
        while !hasEnded(pid) && ContinuousClock.now < graceEnds { usleep(10_000) }
        kill(-pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }

    /// True once the command has ended, without reaping it.
    private static func hasEnded(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        let result = waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT)
        return result == -1 || info._sifields._sigchld.si_pid != 0
    }

    private static func ending(_ status: Int32) -> Ending {
        // The W* macros are not visible to Swift; these are their glibc definitions.
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }
}
