// A port that accepts TCP connections and never says anything: a host that hangs before its
// SSH banner. Fault tests put it in an inventory beside the fleet's servers.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP listener that accepts (in the kernel) and never answers. It listens on 127.0.0.2,
/// where no sandbox server listens, so no fleet can take its port.
public struct SilentListener: Sendable {
    public static let address = "127.0.0.2"

    public let fd: Int32
    public let port: Int

    /// `backlog` is how many connections the kernel completes before nobody accepts them:
    /// with 0, once one is waiting, new connection attempts are dropped unanswered, like a
    /// host behind a firewall that drops packets.
    public init(backlog: Int32 = 16) throws(SandboxError) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr(Self.address)
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard fd >= 0, bound == 0, listen(fd, backlog) == 0 else {
            let reason = String(cString: strerror(errno))
            if fd >= 0 { _ = Glibc.close(fd) }
            throw SandboxError(
                "cannot listen on \(Self.address): \(reason)", code: .noFreePort)
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether a client connected since the listener opened: the kernel keeps the
    /// connection queued, since nobody accepts it.
    public var wasContacted: Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) > 0 && entry.revents & Int16(POLLIN) != 0
    }

    public func close() { _ = Glibc.close(fd) }
}
