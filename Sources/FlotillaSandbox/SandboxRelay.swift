// A TCP relay in front of one sandbox server, for tests of what the network does. It can
// stop forwarding without closing anything: the network between Flotilla and a host goes
// silent (a NAT forgot the flow, a firewall started dropping packets) while both ends still
// believe the connection is open. It also counts the client's turns: how many times the
// client spoke again after the server answered, which is the round trips the client waited.

import FlotillaSupport
import Dispatch
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

public final class SandboxRelay: Sendable {
    /// Where clients connect: 127.0.0.1:`port`.
    public let port: Int
    private let listener: Int32
    private let target: Int
    private let state = Mutex<(frozen: Bool, stopped: Bool)>((false, false))
    private let counts = Mutex<(turns: Int, serverSpoke: Bool)>((0, false))
    private let finished = DispatchSemaphore(value: 0)

    /// Starts relaying 127.0.0.1:`port` to 127.0.0.1:`target` on a thread of its own.
    public init(to target: Int) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard fd >= 0, bound == 0, listen(fd, 16) == 0 else {
            if fd >= 0 { close(fd) }
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        self.target = target
        DetachedThread.start { [self] in
            relay()
            finished.signal()
        }
    }

    /// How many times a client sent bytes after the server had sent some since the client
    /// last did: each is a round trip the client waited for.
    public var turns: Int { counts.withLock { $0.turns } }

    /// From now on nothing passes in either direction, and nothing is closed.
    public func freeze() {
        state.withLock { $0.frozen = true }
    }

    /// Closes every connection and the listener, and waits for the relay's thread.
    public func stop() {
        let first = state.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        if first { finished.wait() }
    }

    private func relay() {
        var pairs: [(client: Int32, server: Int32)] = []
        defer {
            for pair in pairs {
                close(pair.client)
                close(pair.server)
            }
            close(listener)
        }
        while true {
            let (frozen, stopped) = state.withLock { ($0.frozen, $0.stopped) }
            if stopped { return }
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            if !frozen {
                for pair in pairs {
                    fds.append(pollfd(fd: pair.client, events: Int16(POLLIN), revents: 0))
                    fds.append(pollfd(fd: pair.server, events: Int16(POLLIN), revents: 0))
                }
            }
            guard poll(&fds, nfds_t(fds.count), 50) > 0 else { continue }
            if fds[0].revents != 0, let pair = accepted() { pairs.append(pair) }
            var closed: Set<Int> = []
            for (index, entry) in fds.enumerated().dropFirst() where entry.revents != 0 {
                let pairIndex = (index - 1) / 2
                let pair = pairs[pairIndex]
                let fromClient = index % 2 == 1
                let (from, to) = fromClient
                    ? (pair.client, pair.server) : (pair.server, pair.client)
                counts.withLock { counts in
                    if fromClient && counts.serverSpoke { counts.turns += 1 }
                    counts.serverSpoke = !fromClient
                }
                if !forward(from: from, to: to) { closed.insert(pairIndex) }
            }
            for index in closed.sorted(by: >) {
                close(pairs[index].client)
                close(pairs[index].server)
                pairs.remove(at: index)
            }
        }
    }

    /// Accepts a client and connects it to the target server.
    private func accepted() -> (client: Int32, server: Int32)? {
        let client = accept(listener, nil, nil)
        guard client >= 0 else { return nil }
        let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: target)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(client)
            close(server)
            return nil
        }
        return (client, server)
    }

    /// Copies what is readable on `from` to `to`; false when either side is closed.
    private func forward(from: Int32, to: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        let count = buffer.withUnsafeMutableBytes { read(from, $0.baseAddress, $0.count) }
        guard count > 0 else { return false }
        var written = 0
        while written < count {
            let sent = buffer.withUnsafeBytes {
                write(to, $0.baseAddress! + written, count - written)
            }
            guard sent > 0 else { return false }
            written += sent
        }
        return true
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        return address
    }
}
