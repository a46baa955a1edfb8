internal import CLibSSH2

#if canImport(Glibc)
import Glibc
#endif

/// Carries a session to a host behind a jump host: a direct-tcpip channel on the jump
/// session, bridged to one end of a local socket pair whose other end the inner session
/// uses as its socket (libssh2 needs a file descriptor).
final class JumpBridge: Sendable {
    /// Kept alive for as long as the tunnel runs.
    let jump: Session
    private let task: Task<Void, Never>

    private init(jump: Session, task: Task<Void, Never>) {
        self.jump = jump
        self.task = task
    }

    /// Opens the tunnel and returns the bridge and the socket for the inner session.
    static func open(
        through jump: Session, to endpoint: Endpoint, alias: String, timeout: Duration
    ) async throws(SSHError) -> (JumpBridge, Int32) {
        let channel = try await jump.connection.openTunnel(
            to: endpoint, for: alias, timeout: timeout)
        var pair: [Int32] = [0, 0]
        let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
            | Int32(SOCK_CLOEXEC.rawValue)
        guard socketpair(AF_UNIX, flags, 0, &pair) == 0 else {
            await jump.connection.discard(channel.raw)
            throw SSHError(
                .connect, alias: alias, endpoint: endpoint,
                message: "cannot create a local socket pair for the jump host: errno \(errno)")
        }
        let outer = pair[1]
        let connection = jump.connection
        let task = Task { await connection.bridge(channel, socket: outer) }
        return (JumpBridge(jump: jump, task: task), pair[0])
    }

    func stop() async {
        task.cancel()
        await task.value
    }
}

/// A channel pointer handed from the jump session's actor to the task that bridges it.
struct ChannelReference: @unchecked Sendable {
    let raw: OpaquePointer
}

extension Connection {
    func openTunnel(
        to endpoint: Endpoint, for alias: String, timeout: Duration
    ) async throws(SSHError) -> ChannelReference {
        await enterChannelGate()
        defer { leaveChannelGate() }
        let operation = makeOperation(timeout: timeout, cancellable: true)
        let session = self.session
        let channel: OpaquePointer?
        do {
            channel = try await performPointer(operation) {
                libssh2_channel_direct_tcpip_ex(
                    session, endpoint.host, Int32(endpoint.port), "127.0.0.1", 22)
            }
        } catch {
            throw interrupted(error, doing: "opening a tunnel to \(alias) (\(endpoint))")
        }
        guard let channel else {
            throw failure(
                .connect, "the jump host \(self.alias) could not reach \(alias) (\(endpoint)); "
                    + "check the address and that the jump host allows TCP forwarding "
                    + "(AllowTcpForwarding)")
        }
        return ChannelReference(raw: channel)
    }

    /// Copies bytes both ways until either side ends or the task is cancelled.
    func bridge(_ reference: ChannelReference, socket: Int32) async {
        let channel = reference.raw
        let operation = makeOperation(deadline: nil, cancellable: true)
        let limit = 262_144
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var toSocket: [UInt8] = []
        var toChannel: [UInt8] = []
        var channelEnded = false
        var socketEnded = false
        var shutDown = false
        defer { Glibc.close(socket) }

        bridging: while true {
            do { try await awaitTurn(operation) } catch { break }
            var progressed = false

            if toSocket.count < limit && !channelEnded {
                let count = buffer.withUnsafeMutableBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) {
                        libssh2_channel_read_ex(channel, 0, $0.baseAddress, $0.count)
                    }
                }
                if count > 0 {
                    toSocket.append(contentsOf: buffer[..<count])
                    progressed = true
                } else if count == 0 || (count < 0 && count != Int(LIBSSH2_ERROR_EAGAIN)) {
                    channelEnded = libssh2_channel_eof(channel) != 0 || count < 0
                    progressed = progressed || channelEnded
                }
            }
            if !toSocket.isEmpty {
                let count = toSocket.withUnsafeBytes {
                    Glibc.write(socket, $0.baseAddress, $0.count)
                }
                if count > 0 {
                    toSocket.removeFirst(count)
                    progressed = true
                } else if count < 0 && errno != EAGAIN {
                    break bridging
                }
            }
            if channelEnded && toSocket.isEmpty && !shutDown {
                shutdown(socket, Int32(SHUT_WR))
                shutDown = true
            }

            if toChannel.count < limit && !socketEnded {
                let count = buffer.withUnsafeMutableBytes {
                    Glibc.read(socket, $0.baseAddress, $0.count)
                }
                if count > 0 {
                    toChannel.append(contentsOf: buffer[..<count])
                    progressed = true
                } else if count == 0 || (count < 0 && errno != EAGAIN) {
                    socketEnded = true
                    progressed = true
                }
            }
            if !toChannel.isEmpty {
                let count = toChannel.withUnsafeBufferPointer { bytes in
                    bytes.withMemoryRebound(to: CChar.self) {
                        libssh2_channel_write_ex(channel, 0, $0.baseAddress, $0.count)
                    }
                }
                if count > 0 {
                    toChannel.removeFirst(count)
                    progressed = true
                } else if count < 0 && count != Int(LIBSSH2_ERROR_EAGAIN) {
                    break bridging
                }
            }
            // The inner session is gone once its socket ended and everything was passed on.
            if socketEnded && toChannel.isEmpty { break }
            if channelEnded && toSocket.isEmpty && socketEnded { break }

            if progressed {
                finishedCall(operation)
                await Task.yield()
                if Task.isCancelled { break }
                continue
            }
            var sessionEvents: Int16 = 0
            let directions = libssh2_session_block_directions(session)
            if toSocket.count < limit && !channelEnded { sessionEvents |= Int16(POLLIN) }
            if directions & LIBSSH2_SESSION_BLOCK_INBOUND != 0 { sessionEvents |= Int16(POLLIN) }
            if directions & LIBSSH2_SESSION_BLOCK_OUTBOUND != 0 { sessionEvents |= Int16(POLLOUT) }
            var socketEvents: Int16 = 0
            if toChannel.count < limit && !socketEnded { socketEvents |= Int16(POLLIN) }
            if !toSocket.isEmpty { socketEvents |= Int16(POLLOUT) }
            do {
                try await waitForSocket(
                    operation, alsoFor: [EventLoop.Interest(fd: socket, events: socketEvents)],
                    sessionEvents: sessionEvents)
            } catch {
                break
            }
        }
        if lostError == nil {
            let closing = makeOperation(timeout: .seconds(2), cancellable: false)
            _ = try? await perform(closing) { libssh2_channel_send_eof(channel) }
        }
        await discard(channel)
    }
}
