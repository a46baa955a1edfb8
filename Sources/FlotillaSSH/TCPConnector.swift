import FlotillaSupport
import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Opens the TCP connection under a session: name resolution, a non-blocking connect to
/// each address in turn within one deadline, and TCP_NODELAY (SSH's small packets would
/// otherwise wait on delayed ACKs, tens of milliseconds per command).
struct TCPConnector {
    var alias: String
    var endpoint: Endpoint
    var timeout: Duration
    var loop: EventLoop

    /// Returns a connected, non-blocking socket.
    func connect() async throws(SSHError) -> Int32 {
        let deadline = ContinuousClock.now + timeout
        let addresses = try await resolve()
        var lastError: Int32 = ECONNREFUSED
        for (index, address) in addresses.enumerated() {
            // The first address is always tried: a late start (a busy machine) must not
            // count as a timeout when the socket connects at once.
            if index > 0 && ContinuousClock.now >= deadline { break }
            let result = await attempt(address, deadline: deadline)
            switch result {
            case .success(let fd):
                return fd
            case .failure(let code):
                lastError = code
            }
            if lastError == ECANCELED {
                throw SSHError(
                    .cancelled, alias: alias, endpoint: endpoint,
                    message: "connecting was cancelled")
            }
        }
        if lastError == ETIMEDOUT {
            throw SSHError(
                .connectTimeout, alias: alias, endpoint: endpoint,
                message: "TCP connect timed out after \(DurationText(timeout)); check the "
                    + "address and that no firewall drops the packets")
        }
        let reason = String(cString: strerror(lastError))
        let hint = lastError == ECONNREFUSED
            ? "is sshd running and listening on port \(endpoint.port)?"
            : "check the address and the network"
        throw SSHError(
            .connect, alias: alias, endpoint: endpoint,
            message: "TCP connect failed: \(reason.lowercased()); \(hint)")
    }

    private struct Address: @unchecked Sendable {
        var family: Int32
        var storage: sockaddr_storage
        var length: socklen_t
    }

    private struct LookUpFailure: Error {
        var code: Int32
    }

    private enum Attempt {
        case success(Int32)
        case failure(Int32)
    }

    private func attempt(_ address: Address, deadline: ContinuousClock.Instant) async -> Attempt {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
            | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(errno) }
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, address.length)
            }
        }
        if rc != 0 && errno != EINPROGRESS {
            let code = errno
            Glibc.close(fd)
            return .failure(code)
        }
        if rc != 0 {
            // A loopback connect completes within microseconds: when this task started late
            // the deadline may be gone already, and the socket still deserves one look.
            let grace = max(deadline, ContinuousClock.now + .milliseconds(250))
            let wake = await loop.wait(
                for: [EventLoop.Interest(fd: fd, events: Int16(POLLOUT))], deadline: grace,
                group: 0, kickable: false, cancellable: true)
            if wake != .ready {
                Glibc.close(fd)
                return .failure(wake == .cancelled ? ECANCELED : ETIMEDOUT)
            }
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            if soError != 0 {
                Glibc.close(fd)
                return .failure(soError)
            }
        }
        var on: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
        return .success(fd)
    }

    /// getaddrinfo blocks for names; it runs on its own thread, never on the Swift pool.
    private func resolve() async throws(SSHError) -> [Address] {
        let host = endpoint.host.trimming { $0 == "[" || $0 == "]" }
        let port = String(endpoint.port)
        let result: Result<[Address], LookUpFailure> = await withCheckedContinuation {
            continuation in
            DetachedThread.start {
                continuation.resume(returning: Self.lookUp(host: host, port: port))
            }
        }
        switch result {
        case .success(let addresses) where !addresses.isEmpty:
            return addresses
        case .success:
            throw resolveError("no address found")
        case .failure(let failure):
            throw resolveError(String(cString: gai_strerror(failure.code)).lowercased())
        }
    }

    private func resolveError(_ reason: String) -> SSHError {
        SSHError(
            .resolve, alias: alias, endpoint: endpoint,
            message: "cannot resolve \(endpoint.host): \(reason); check the host's address in "
                + "the inventory")
    }

    private static func lookUp(host: String, port: String) -> Result<[Address], LookUpFailure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, port, &hints, &list)
        guard rc == 0 else { return .failure(LookUpFailure(code: rc)) }
        defer { freeaddrinfo(list) }
        var addresses: [Address] = []
        var cursor = list
        while let entry = cursor?.pointee {
            var storage = sockaddr_storage()
            withUnsafeMutableBytes(of: &storage) { target in
                target.copyMemory(
                    from: UnsafeRawBufferPointer(
                        start: entry.ai_addr, count: Int(entry.ai_addrlen)))
            }
            addresses.append(
                Address(family: entry.ai_family, storage: storage, length: entry.ai_addrlen))
            cursor = entry.ai_next
        }
        return .success(addresses)
    }
}
