// Finding free ports on the loopback interface and checking that a server answers there.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum LoopbackProbe {
    /// A port that was free on 127.0.0.1 (and on ::1 when asked) a moment ago. Another
    /// program may take it before the server binds it; the caller retries on that race.
    static func freePort(alsoIPv6: Bool) -> Int? {
        for _ in 0..<20 {
            guard let port = bindAndRelease(port: 0, ipv6: false) else { continue }
            if !alsoIPv6 || bindAndRelease(port: port, ipv6: true) != nil { return port }
        }
        return nil
    }

    /// Whether a server on 127.0.0.1:`port` accepts a connection and sends an SSH banner
    /// within `timeoutMilliseconds`.
    static func answersSSH(port: Int, timeoutMilliseconds: Int32 = 1000) -> Bool {
        answeringSSH(ports: [port], timeoutMilliseconds: timeoutMilliseconds) == [port]
    }

    /// The ports among `ports` on 127.0.0.1 whose servers accept a connection and send an
    /// SSH banner within `timeoutMilliseconds`. All ports are probed at once.
    static func answeringSSH(ports: [Int], timeoutMilliseconds: Int32) -> Set<Int> {
        var open: [(port: Int, fd: Int32, received: [UInt8])] = []
        defer { for probe in open { close(probe.fd) } }
        for port in ports {
            // A loopback connect is answered at once: refused, or queued for accept.
            guard let fd = connectLoopback(port: port) else { continue }
            open.append((port, fd, []))
        }

        var answered: Set<Int> = []
        var pending = Set(open.indices)
        let deadline = ContinuousClock.now + .milliseconds(Int(timeoutMilliseconds))
        while !pending.isEmpty {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            let order = pending.sorted()
            var pollers = order.map { pollfd(fd: open[$0].fd, events: Int16(POLLIN), revents: 0) }
            let milliseconds = Int32(left.components.seconds * 1000)
                + Int32(left.components.attoseconds / 1_000_000_000_000_000) + 1
            guard poll(&pollers, nfds_t(pollers.count), milliseconds) > 0 else { break }
            for (slot, index) in order.enumerated() where pollers[slot].revents != 0 {
                var buffer = [UInt8](repeating: 0, count: 256)
                let count = read(open[index].fd, &buffer, buffer.count)
                guard count > 0 else {
                    pending.remove(index)
                    continue
                }
                open[index].received += buffer[0..<count]
                // The banner may arrive in pieces; it is complete at the end of a line.
                let received = open[index].received
                if received.contains(UInt8(ascii: "\n")) || received.count >= 512 {
                    pending.remove(index)
                    if received.starts(with: Array("SSH-2.0-".utf8)) {
                        answered.insert(open[index].port)
                    }
                }
            }
        }
        return answered
    }

    private static func connectLoopback(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = loopbackV4(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    private static func bindAndRelease(port: Int, ipv6: Bool) -> Int? {
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        if ipv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            address.sin6_addr = in6addr_loopback
            return bound(fd, &address, MemoryLayout<sockaddr_in6>.size)
        }
        var address = loopbackV4(port: port)
        return bound(fd, &address, MemoryLayout<sockaddr_in>.size)
    }

    private static func bound<Address>(_ fd: Int32, _ address: inout Address, _ size: Int)
        -> Int?
    {
        var length = socklen_t(size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else { return nil }
        // sin_port and sin6_port sit at the same offset, right after the family.
        let port = withUnsafeBytes(of: &address) { $0.load(fromByteOffset: 2, as: UInt16.self) }
        return Int(UInt16(bigEndian: port))
    }

    private static func loopbackV4(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr = in_addr(s_addr: in_addr_t(0x7f00_0001).bigEndian)
        return address
    }
}
