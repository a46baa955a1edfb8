internal import CLibSSH2
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Why an operation stopped waiting before libssh2 finished.
enum Interruption: Error, Sendable {
    case timedOut
    case cancelled
    case lost(SSHError)
}

/// One operation's bounds: when it must give up and whether task cancellation ends it.
struct Operation: Sendable {
    /// Distinguishes operations sharing a session (who owns a half-sent packet).
    var token: Int
    var deadline: ContinuousClock.Instant?
    var cancellable: Bool
}

/// A libssh2 session confined to its event loop. Every libssh2 call of the session happens
/// on this actor, whose executor is the loop's thread; EAGAIN suspends the caller until the
/// socket is ready in the direction libssh2 asks for.
actor Connection {
    nonisolated let loop: EventLoop
    nonisolated let alias: String
    nonisolated let endpoint: Endpoint
    nonisolated let user: String
    /// Identifies this session's waiters on the loop.
    nonisolated let group: Int
    nonisolated let handle: SessionHandle

    nonisolated var unownedExecutor: UnownedSerialExecutor {
        loop.asUnownedSerialExecutor()
    }

    var session: OpaquePointer { handle.raw }
    private(set) var lostError: SSHError?
    private(set) var isClosed = false
    /// When a call left a packet half-sent, libssh2 must be called again by that same
    /// operation before anyone else sends: another caller's packet would be dropped.
    private var outboundOwner: Int?
    var hasHalfSentPacket: Bool { outboundOwner != nil }
    private var seenBytes: UInt64 = 0
    private var nextToken = 1
    /// Opening a channel uses session-wide state in libssh2: one opening at a time.
    var channelGate = Gate()
    /// SFTP requests use per-SFTP-session state in libssh2: one request chain at a time.
    var sftpGate = Gate()
    var sftp: OpaquePointer?
    var abandonedSFTP: [OpaquePointer] = []
    var homeFolder: String?
    /// Kept alive while this session tunnels through it.
    var jumpBridge: JumpBridge?
    /// Long-lived commands (`openShell`), by id, with their channels.
    var shells: [Int: OpaquePointer] = [:]
    var nextShell = 1

    private static let groups = Atomic<Int>(1)

    init(
        loop: EventLoop, handle: SessionHandle, alias: String, endpoint: Endpoint, user: String
    ) {
        self.loop = loop
        self.handle = handle
        self.alias = alias
        self.endpoint = endpoint
        self.user = user
        self.group = Self.groups.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    func makeOperation(timeout: Duration?, cancellable: Bool = true) -> Operation {
        defer { nextToken += 1 }
        return Operation(
            token: nextToken, deadline: timeout.map { ContinuousClock.now + $0 },
            cancellable: cancellable)
    }

    func makeOperation(deadline: ContinuousClock.Instant?, cancellable: Bool) -> Operation {
        defer { nextToken += 1 }
        return Operation(token: nextToken, deadline: deadline, cancellable: cancellable)
    }

    /// Calls `call` until it stops reporting EAGAIN, waiting on the socket in between.
    func perform<T>(
        _ operation: Operation, _ call: () -> T, again: (T) -> Bool
    ) async throws(Interruption) -> T {
        while true {
            try await awaitTurn(operation)
            handle.counter.emptyReadsInCall = 0
            let result = call()
            if !again(result) {
                finishedCall(operation)
                return result
            }
            try await waitForSocket(operation)
        }
    }

    /// How one of several requests sent together stands after a call.
    enum Pipelined {
        case waiting
        case finished
        /// Failed in a way that leaves the channel unusable (not an SFTP status): the
        /// requests after it are not sent or waited for.
        case broken
    }

    /// Calls `count` libssh2 requests of different kinds together, in order, until each has
    /// its answer: `call(i)` makes the i-th call once. A request goes out while the ones
    /// before it still wait for their answers, so they all cost one round trip; libssh2
    /// keeps separate state for each kind of SFTP request and matches answers by id, and the
    /// server answers in order. A call that left its packet half-sent is the only one made
    /// until that packet is out: libssh2 would drop any other packet sent meanwhile. False
    /// when a request broke the channel (see `Pipelined.broken`).
    func performEach(
        _ operation: Operation, count: Int, _ call: (Int) -> Pipelined
    ) async throws(Interruption) -> Bool {
        var finished = [Bool](repeating: false, count: count)
        var halfSent: Int?
        while true {
            try await awaitTurn(operation)
            handle.counter.emptyReadsInCall = 0
            // A later call may read the answer an earlier one waits for: then the earlier
            // one must be asked again, not left waiting for bytes that already came.
            let received = handle.counter.bytes
            let order = halfSent.map { [$0] + (0..<count).filter { $0 != halfSent } }
                ?? Array(0..<count)
            halfSent = nil
            for index in order where !finished[index] {
                switch call(index) {
                case .finished:
                    finished[index] = true
                    continue
                case .broken:
                    finishedCall(operation)
                    return false
                case .waiting:
                    break
                }
                if isSendBlocked {
                    halfSent = index
                    break
                }
            }
            if !finished.contains(false) {
                finishedCall(operation)
                return true
            }
            if halfSent == nil && handle.counter.bytes != received {
                finishedCall(operation)
                await loop.yield()
                continue
            }
            try await waitForSocket(operation, sending: halfSent != nil)
        }
    }

    /// `perform` for calls that return an `Int32`/`Int` code with EAGAIN as a value.
    func perform<T: BinaryInteger>(
        _ operation: Operation, _ call: () -> T
    ) async throws(Interruption) -> T {
        try await perform(operation, call, again: { $0 == T(LIBSSH2_ERROR_EAGAIN) })
    }

    /// `perform` for calls that return a pointer, or nil with EAGAIN in `last_errno`.
    func performPointer<T>(
        _ operation: Operation, _ call: () -> T?
    ) async throws(Interruption) -> T? {
        let session = self.session
        return try await perform(operation, call, again: { result in
            result == nil && libssh2_session_last_errno(session) == LIBSSH2_ERROR_EAGAIN
        })
    }

    /// Waits while another operation owns a half-sent packet.
    func awaitTurn(_ operation: Operation) async throws(Interruption) {
        while true {
            if let lostError { throw .lost(lostError) }
            let kicks = loop.kicks(of: group)
            guard let owner = outboundOwner, owner != operation.token else { return }
            let wake = await loop.wait(
                for: [], deadline: operation.deadline, group: group,
                cancellable: operation.cancellable, kickedSince: kicks)
            try check(wake)
        }
    }

    /// Bookkeeping after a call that did not say EAGAIN.
    func finishedCall(_ operation: Operation) {
        if outboundOwner == operation.token {
            outboundOwner = nil
            loop.kick(group: group)
        }
        kickIfReceived()
    }

    /// Whether libssh2's last call stopped because the socket would not take more.
    var isSendBlocked: Bool {
        libssh2_session_block_directions(session) & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0
    }

    /// Suspends until the socket is ready in the direction libssh2 is blocked on, and for
    /// writing too when `sending` (an earlier call of the same round left a packet
    /// half-sent, which a later read does not remember).
    func waitForSocket(_ operation: Operation, sending: Bool = false) async throws(Interruption) {
        let directions = libssh2_session_block_directions(session)
        var events: Int16 = 0
        if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { events |= Int16(POLLIN) }
        if sending || directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 {
            events |= Int16(POLLOUT)
            outboundOwner = operation.token
        } else if outboundOwner == operation.token {
            outboundOwner = nil
            loop.kick(group: group)
        }
        if events == 0 { events = Int16(POLLIN) }
        kickIfReceived()
        // Read before anything can suspend: a kick from here on ends this wait at once.
        let kicks = loop.kicks(of: group)
        let wake = await loop.wait(
            for: [EventLoop.Interest(fd: handle.socket, events: events)],
            deadline: operation.deadline, group: group, cancellable: operation.cancellable,
            kickedSince: kicks)
        do {
            try check(wake)
        } catch {
            // An abandoned operation cannot finish its packet; holding the turn would stall
            // every other operation of the session.
            if outboundOwner == operation.token {
                outboundOwner = nil
                loop.kick(group: group)
            }
            throw error
        }
    }

    /// Waits on the session socket and other sockets at once (the jump-host bridge).
    func waitForSocket(
        _ operation: Operation, alsoFor others: [EventLoop.Interest], sessionEvents: Int16
    ) async throws(Interruption) {
        kickIfReceived()
        let kicks = loop.kicks(of: group)
        let interests = [EventLoop.Interest(fd: handle.socket, events: sessionEvents)] + others
        let wake = await loop.wait(
            for: interests, deadline: operation.deadline, group: group,
            cancellable: operation.cancellable, kickedSince: kicks)
        try check(wake)
    }

    private func check(_ wake: EventLoop.Wake) throws(Interruption) {
        switch wake {
        case .ready, .kicked: return
        case .timedOut: throw .timedOut
        case .cancelled: throw .cancelled
        case .lost: throw .lost(lostError ?? lostConnection(reason: "the connection was lost"))
        }
    }

    /// Wakes the session's other waiters when this call read bytes that may be theirs.
    private func kickIfReceived() {
        let bytes = handle.counter.bytes
        guard bytes != seenBytes else { return }
        seenBytes = bytes
        loop.kick(group: group)
    }

    /// Declares the session lost: every pending and later operation fails with `error`.
    func markLost(_ error: SSHError) {
        guard lostError == nil else { return }
        lostError = error
        loop.fail(group: group)
    }

    func lostConnection(reason: String) -> SSHError {
        SSHError(
            .connectionLost, alias: alias, endpoint: endpoint,
            message: "\(reason); the state of any running command is unknown")
    }

    /// Turns a failed libssh2 call into an error, declaring the session lost when the
    /// socket itself failed.
    func failure(_ code: SSHError.Code, _ message: String) -> SSHError {
        let (number, text) = LibSSH2Runtime.lastError(session)
        if handle.counter.brokeLoop {
            let error = lostConnection(
                reason: "\(alias) sent data libssh2 could not get past (a broken or hostile "
                    + "server), so the connection was closed")
            markLost(error)
            return SSHError(
                code, alias: alias, endpoint: endpoint, message: error.message,
                detail: "libssh2 \(number): \(text)")
        }
        let socketCodes: Set<Int32> = [
            LIBSSH2_ERROR_SOCKET_SEND, LIBSSH2_ERROR_SOCKET_RECV,
            LIBSSH2_ERROR_SOCKET_DISCONNECT, LIBSSH2_ERROR_SOCKET_NONE,
        ]
        if socketCodes.contains(number) {
            let error = lostConnection(reason: "connection to \(alias) closed unexpectedly")
            markLost(error)
            return SSHError(
                .connectionLost, alias: alias, endpoint: endpoint, message: error.message,
                detail: "libssh2 \(number): \(text)")
        }
        return SSHError(
            code, alias: alias, endpoint: endpoint, message: message,
            detail: "libssh2 \(number): \(text)")
    }

    func interrupted(_ interruption: Interruption, doing what: String) -> SSHError {
        switch interruption {
        case .lost(let error): return error
        case .cancelled:
            return SSHError(
                .cancelled, alias: alias, endpoint: endpoint, message: "\(what) was cancelled")
        case .timedOut:
            return SSHError(
                .commandTimeout, alias: alias, endpoint: endpoint,
                message: "\(what) did not finish in time")
        }
    }

    /// Says goodbye (unless `politely` is false: after a refused host key nothing more is
    /// sent) and frees the session. Safe to call twice.
    func close(politely: Bool = true) async {
        guard !isClosed else { return }
        isClosed = true
        if politely && lostError == nil {
            let operation = makeOperation(timeout: .seconds(2), cancellable: false)
            // A shell still open ends with the session: waiting for its channel to close
            // would cost a round trip, and freeing the session frees the channel.
            shells = [:]
            for sftp in abandonedSFTP + (sftp.map { [$0] } ?? []) {
                _ = try? await perform(operation) { libssh2_sftp_shutdown(sftp) }
            }
            sftp = nil
            abandonedSFTP = []
            _ = try? await perform(operation) {
                libssh2_session_disconnect_ex(
                    session, SSH_DISCONNECT_BY_APPLICATION, "Flotilla is done", "")
            }
        }
        markLost(SSHError(
            .connectionLost, alias: alias, endpoint: endpoint,
            message: "the session to \(alias) was closed"))
        shutdown(handle.socket, Int32(SHUT_RDWR))
        await jumpBridge?.stop()
        jumpBridge = nil
    }
}

/// A first-come first-served lock for code on one actor (which may suspend while holding it).
struct Gate {
    private var busy = false
    private var queue: [CheckedContinuation<Void, Never>] = []

    /// Returns true when the gate was free and is now held.
    mutating func tryEnter() -> Bool {
        if busy { return false }
        busy = true
        return true
    }

    mutating func enqueue(_ continuation: CheckedContinuation<Void, Never>) {
        queue.append(continuation)
    }

    /// Hands the gate to the next in line, or frees it.
    mutating func leave() {
        if queue.isEmpty {
            busy = false
        } else {
            queue.removeFirst().resume()
        }
    }
}

extension Connection {
    func enterChannelGate() async {
        if channelGate.tryEnter() { return }
        await withCheckedContinuation { channelGate.enqueue($0) }
    }

    func leaveChannelGate() {
        channelGate.leave()
    }

    func enterSFTPGate() async {
        if sftpGate.tryEnter() { return }
        await withCheckedContinuation { sftpGate.enqueue($0) }
    }

    func leaveSFTPGate() {
        sftpGate.leave()
    }
}
