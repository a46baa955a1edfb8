import FlotillaSupport
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A thread that runs Swift jobs and waits on sockets with poll(2). Every libssh2 session is
/// confined to one loop: its actor uses the loop as its executor, so libssh2 is only ever
/// called from this thread and never blocks Swift's cooperative pool. Waiting for a socket
/// or a deadline suspends the caller; the loop resumes it when poll reports readiness.
/// The thread a host's work runs on. An actor whose executor is `executor` calls into the
/// sessions it opened inside `opening` without changing threads: each call into libssh2 and
/// each wait for a socket stays on one thread instead of crossing to Swift's pool and back.
public struct SessionThread: Sendable {
    let loop: EventLoop

    /// The next thread in turn; hosts are spread over them.
    public static func next() -> SessionThread {
        SessionThread(loop: EventLoop.next())
    }

    public var executor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }
    /// The same thread as a task executor: work that belongs to no actor runs there too.
    public var taskExecutor: any TaskExecutor { loop }

    /// Runs `body`; the sessions it opens live on this thread.
    public func opening<T, E: Error>(_ body: () async throws(E) -> T) async throws(E) -> T {
        let result: Result<T, E> = await EventLoop.$preferred.withValue(loop) {
            do throws(E) {
                return .success(try await body())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

final class EventLoop: SerialExecutor, TaskExecutor, @unchecked Sendable {
    /// A socket and the poll events (`POLLIN`, `POLLOUT`) a waiter needs.
    struct Interest: Sendable {
        var fd: Int32
        var events: Int16
    }

    /// Why a wait ended.
    enum Wake: Sendable, Equatable {
        /// A socket of the waiter is ready (or in error: the next call will say so).
        case ready
        case timedOut
        case cancelled
        /// Another operation on the same session received bytes; try again.
        case kicked
        /// The session was declared lost.
        case lost
    }

    private struct Waiter {
        var interests: [Interest]
        var deadline: ContinuousClock.Instant?
        /// The session the waiter belongs to, so it can be kicked or failed with the session.
        var group: Int
        var kickable: Bool
        var continuation: CheckedContinuation<Wake, Never>
    }

    private struct State {
        var jobs: [UnownedJob] = []
        var waiters: [Int: Waiter] = [:]
        /// Waits cancelled before they were registered.
        var cancelledEarly: Set<Int> = []
        /// How many times each group was kicked.
        var kicks: [Int: Int] = [:]
    }

    /// Two loops for a two-core machine: sessions are spread over them.
    static let shared: [EventLoop] = (0..<2).map { EventLoop(name: "flotilla-ssh-\($0)") }
    private static let roundRobin = Atomic<Int>(0)
    private static let waiterIDs = Atomic<Int>(1)

    /// The loop new sessions of this task use (see `SessionThread.opening`).
    @TaskLocal static var preferred: EventLoop?

    /// The loop a new session lives on: the task's preferred one, else the next in turn.
    static func next() -> EventLoop {
        if let preferred { return preferred }
        let index = roundRobin.wrappingAdd(1, ordering: .relaxed).oldValue
        return shared[index % shared.count]
    }

    private let state = Mutex(State())
    /// The loop's thread, once it runs: work queued from the loop itself needs no wake-up.
    private let thread = Atomic<UInt>(0)
    private let wakeRead: Int32
    private let wakeWrite: Int32

    private init(name: String) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            fatalError("cannot create the event loop's wake-up pipe: errno \(errno)")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
        DetachedThread.start(name: name) { [unowned self] in self.run() }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let first = state.withLock { state in
            state.jobs.append(job)
            return state.jobs.count == 1
        }
        if first && !isCurrent { wake() }
    }

    /// Whether the caller runs on this loop's thread, which looks at its jobs and waiters
    /// again before it next sleeps.
    private var isCurrent: Bool {
        thread.load(ordering: .relaxed) == UInt(pthread_self())
    }

    /// How many times `group` was kicked so far: a waiter that read it before its last call
    /// into libssh2 passes it to `wait`, so a kick that comes before the wait is registered
    /// is not lost (the bytes it announced are already out of the socket).
    func kicks(of group: Int) -> Int {
        state.withLock { $0.kicks[group, default: 0] }
    }

    /// Suspends until one of `interests` is ready, the deadline passes, the task is
    /// cancelled (when `cancellable`), or the group is kicked or failed. When `kickedSince`
    /// is given and the group was kicked since then, returns `.kicked` at once.
    func wait(
        for interests: [Interest], deadline: ContinuousClock.Instant?, group: Int,
        kickable: Bool = true, cancellable: Bool = true, kickedSince: Int? = nil
    ) async -> Wake {
        let id = Self.waiterIDs.wrappingAdd(1, ordering: .relaxed).oldValue
        if cancellable && Task.isCancelled { return .cancelled }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let waiter = Waiter(
                    interests: interests, deadline: deadline, group: group,
                    kickable: kickable, continuation: continuation)
                let early = state.withLock { state -> Wake? in
                    if state.cancelledEarly.remove(id) != nil { return .cancelled }
                    if kickable, let kickedSince, state.kicks[group, default: 0] != kickedSince {
                        return .kicked
                    }
                    state.waiters[id] = waiter
                    return nil
                }
                if let early {
                    continuation.resume(returning: early)
                } else if !isCurrent {
                    wake()
                }
            }
        } onCancel: {
            guard cancellable else { return }
            let waiter = state.withLock { state -> Waiter? in
                if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
                state.cancelledEarly.insert(id)
                return nil
            }
            waiter?.continuation.resume(returning: .cancelled)
        }
    }

    /// Lets the loop's other sessions have their turn before the caller goes on, without
    /// leaving the loop's thread (`Task.yield` would go through Swift's pool and back).
    func yield() async {
        _ = await wait(
            for: [], deadline: .now, group: 0, kickable: false, cancellable: false)
    }

    /// Suspends until the deadline; not ended by kicks, only by cancellation.
    func sleep(until deadline: ContinuousClock.Instant) async -> Wake {
        await wait(for: [], deadline: deadline, group: 0, kickable: false)
    }

    /// Wakes every kickable waiter of the group so it retries its call.
    func kick(group: Int) {
        resume(with: .kicked, counting: group) { $0.group == group && $0.kickable }
    }

    /// Ends every wait of the group with `.lost`.
    func fail(group: Int) {
        resume(with: .lost) { $0.group == group }
    }

    private func resume(
        with wake: Wake, counting kicked: Int? = nil, where matches: (Waiter) -> Bool
    ) {
        let chosen = state.withLock { state in
            if let kicked { state.kicks[kicked, default: 0] &+= 1 }
            let ids = state.waiters.filter { matches($0.value) }.map(\.key)
            return ids.compactMap { state.waiters.removeValue(forKey: $0) }
        }
        for waiter in chosen { waiter.continuation.resume(returning: wake) }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWrite, &byte, 1)
    }

    private func run() {
        thread.store(UInt(pthread_self()), ordering: .relaxed)
        var pollSet: [pollfd] = []
        var drain = [UInt8](repeating: 0, count: 64)
        while true {
            let jobs = state.withLock { state in
                let jobs = state.jobs
                state.jobs.removeAll(keepingCapacity: true)
                return jobs
            }
            for job in jobs { job.runSynchronously(on: asUnownedSerialExecutor()) }

            // One pollfd per socket, with the union of what its waiters need.
            let now = ContinuousClock.now
            let timeout: Int32 = state.withLock { state in
                var eventsByFD: [Int32: Int16] = [:]
                var nearest: ContinuousClock.Instant?
                for waiter in state.waiters.values {
                    for interest in waiter.interests {
                        eventsByFD[interest.fd, default: 0] |= interest.events
                    }
                    if let deadline = waiter.deadline,
                        nearest.map({ deadline < $0 }) ?? true
                    {
                        nearest = deadline
                    }
                }
                pollSet.removeAll(keepingCapacity: true)
                pollSet.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
                for (fd, events) in eventsByFD {
                    pollSet.append(pollfd(fd: fd, events: events, revents: 0))
                }
                if !state.jobs.isEmpty { return 0 }
                guard let nearest else { return -1 }
                return Self.milliseconds(until: nearest, from: now)
            }
            _ = poll(&pollSet, nfds_t(pollSet.count), timeout)

            if pollSet[0].revents != 0 {
                while Glibc.read(wakeRead, &drain, drain.count) > 0 {}
            }
            var readyFDs: [Int32: Int16] = [:]
            for entry in pollSet.dropFirst() where entry.revents != 0 {
                readyFDs[entry.fd] = entry.revents
            }
            resumeDue(ready: readyFDs, now: ContinuousClock.now)
        }
    }

    private func resumeDue(ready: [Int32: Int16], now: ContinuousClock.Instant) {
        let errorBits = Int16(POLLERR | POLLHUP | POLLNVAL)
        let due: [(Waiter, Wake)] = state.withLock { state in
            var due: [(Int, Wake)] = []
            for (id, waiter) in state.waiters {
                let isReady = waiter.interests.contains { interest in
                    guard let revents = ready[interest.fd] else { return false }
                    return revents & (interest.events | errorBits) != 0
                }
                if isReady {
                    due.append((id, .ready))
                } else if let deadline = waiter.deadline, deadline <= now {
                    due.append((id, .timedOut))
                }
            }
            return due.compactMap { id, wake in
                state.waiters.removeValue(forKey: id).map { ($0, wake) }
            }
        }
        for (waiter, wake) in due { waiter.continuation.resume(returning: wake) }
    }

    private static func milliseconds(
        until deadline: ContinuousClock.Instant, from now: ContinuousClock.Instant
    ) -> Int32 {
        guard deadline > now else { return 0 }
        let (seconds, attoseconds) = (deadline - now).components
        // Round up so a deadline is never polled for a moment too early and spun on.
        let millis = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: millis)
    }
}
