// One bash per host for the whole run. Every program of the login user (a step, a guard, the
// lock) is sent to it instead of opening a new SSH session: for a host, a new session costs
// sshd a fork and a login shell, more than most steps cost themselves. Each program still
// runs as a job in its own process group, with its own exit status, streams, timeout and
// interruption (see `RemoteProgram.shellInput`). Programs run through sudo, and anything
// sent while a program runs (ending it on an interrupt), take a session of their own.

import FlotillaSSH
import FlotillaSupport
import Synchronization

final class HostShell: Sendable {
    let connection: any HostConnection
    private let handle: RemoteShell
    private let state = Mutex(State())

    private struct State {
        var busy = false
        var ended = false
        /// A program has run to its end in this shell.
        var proven = false
    }

    private init(connection: any HostConnection, handle: RemoteShell) {
        self.connection = connection
        self.handle = handle
    }

    /// The host's shell, or nil when it cannot be had (the program then runs on a session of
    /// its own, as it would anyway).
    static func start(on connection: any HostConnection) async -> HostShell? {
        guard let handle = try? await connection.openShell(RemoteProgram.shellCommandLine)
        else { return nil }
        return HostShell(connection: connection, handle: handle)
    }

    /// Runs `program` in the shell. Nil when the shell is busy or has ended: the caller runs
    /// the program on a session of its own instead. Nil too when the shell ends silently
    /// before its first program, which therefore never started: a bash older than 4.1 has
    /// no `read -N` to read programs with.
    func run(
        _ program: RemoteProgram, timeout: Duration?,
        output: @escaping @Sendable (OutputChunk) -> Void
    ) async throws(SSHError) -> ExitStatus? {
        let claimed = state.withLock { state -> Bool in
            guard !state.busy, !state.ended else { return false }
            state.busy = true
            return true
        }
        guard claimed else { return nil }
        let ends = Mutex(StreamEnds(endLine: program.endLine))
        let heard = Atomic<Bool>(false)
        let complete: Bool
        do {
            complete = try await connection.exchange(
                handle, input: program.shellInput(), timeout: timeout,
                output: { chunk in
                    heard.store(true, ordering: .relaxed)
                    let shown = ends.withLock { $0.feed(chunk) }
                    if !shown.isEmpty { output(OutputChunk(stream: chunk.stream, bytes: shown)) }
                },
                until: { ends.withLock { $0.complete } })
        } catch {
            state.withLock { $0 = State(busy: false, ended: true, proven: $0.proven) }
            throw error
        }
        let proven = state.withLock { state in
            state = State(busy: false, ended: !complete, proven: state.proven || complete)
            return state.proven
        }
        if !proven && !heard.load(ordering: .relaxed) { return nil }
        // The job's own status comes from its markers; without them nothing is known.
        return complete ? .exited(0) : .unknown
    }

    func close() async {
        let open = state.withLock { state -> Bool in
            defer { state.ended = true }
            return !state.ended
        }
        if open { await connection.closeShell(handle) }
    }
}

/// Cuts each stream of a shell job where its wrapper's end mark is, holding back only bytes
/// that could be the start of that mark, so every complete line passes at once.
struct StreamEnds {
    let endLine: [UInt8]
    private var pending: [[UInt8]] = [[], []]
    private var ended = [false, false]

    init(endLine: [UInt8]) {
        self.endLine = endLine
    }

    var complete: Bool { ended[0] && ended[1] }

    /// The bytes of `chunk` that belong to the job's output.
    mutating func feed(_ chunk: OutputChunk) -> [UInt8] {
        let index = chunk.stream == .stdout ? 0 : 1
        guard !ended[index] else { return [] }
        pending[index] += chunk.bytes
        if let found = pending[index].firstOffset(of: endLine) {
            let shown = Array(pending[index][..<found])
            pending[index] = []
            ended[index] = true
            return shown
        }
        let keep = heldBack(pending[index])
        let shown = Array(pending[index].dropLast(keep))
        pending[index].removeFirst(shown.count)
        return shown
    }

    /// How many bytes at the end of `bytes` could begin the end line.
    private func heldBack(_ bytes: [UInt8]) -> Int {
        var length = min(bytes.count, endLine.count - 1)
        while length > 0 {
            if bytes.suffix(length).elementsEqual(endLine.prefix(length)) { return length }
            length -= 1
        }
        return 0
    }
}
