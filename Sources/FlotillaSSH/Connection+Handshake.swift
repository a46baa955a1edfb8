internal import CLibSSH2

#if canImport(Glibc)
import Glibc
#endif

extension Connection {
    /// Host-key algorithms this libssh2 build can verify, in its own order.
    func supportedHostKeyAlgorithms() -> [String] {
        var list: UnsafeMutablePointer<UnsafePointer<CChar>?>?
        let count = libssh2_session_supported_algs(session, LIBSSH2_METHOD_HOSTKEY, &list)
        guard count > 0, let list else { return [] }
        defer { libssh2_free(session, list) }
        return (0..<Int(count)).compactMap { list[$0].map { String(cString: $0) } }
    }

    /// Offers the host-key algorithms in this order; unknown names are left out.
    func preferHostKeyAlgorithms(_ algorithms: [String]) {
        let supported = Set(supportedHostKeyAlgorithms())
        let usable = algorithms.filter { supported.contains($0) }
        guard !usable.isEmpty else { return }
        _ = libssh2_session_method_pref(
            session, LIBSSH2_METHOD_HOSTKEY, usable.joined(separator: ","))
    }

    /// Banner and key exchange within `timeout`; returns the key the server presented.
    func handshake(timeout: Duration, deadline: ContinuousClock.Instant) async throws(SSHError)
        -> HostKeyInfo
    {
        let operation = makeOperation(deadline: deadline, cancellable: true)
        let socket = handle.socket
        let session = self.session
        let rc: Int32
        handle.counter.limit = ReceiveCounter.handshakeLimit
        defer { handle.counter.limit = .max }
        do {
            rc = try await perform(operation) { libssh2_session_handshake(session, socket) }
        } catch {
            throw handshakeInterrupted(error, timeout: timeout)
        }
        guard rc == 0 else {
            if handle.counter.bytes == 0 {
                throw failure(
                    .handshake, "the server closed the connection before its SSH banner; is "
                        + "this port an SSH server, and does it allow connections from here?")
            }
            if handle.counter.passedLimit {
                // Cut off on purpose: what the server sent is the reason, not the socket.
                throw SSHError(
                    .handshake, alias: alias, endpoint: endpoint,
                    message: bannerProblem() ?? "the server sent more than "
                        + "\(ReceiveCounter.handshakeLimit >> 10) KiB without finishing the SSH "
                        + "handshake; is this port an SSH server?")
            }
            if let problem = bannerProblem() { throw failure(.handshake, problem) }
            let error = failure(
                .handshake, "SSH handshake failed: no key exchange, cipher or host key "
                    + "algorithm in common, or a protocol error; see the detail")
            guard error.code == .connectionLost else { throw error }
            // No command ran yet, so nothing is in an unknown state: the server broke the
            // key exchange, by closing or by sending what is not SSH.
            throw SSHError(
                .handshake, alias: alias, endpoint: endpoint,
                message: "SSH handshake failed: the connection broke during the key exchange "
                    + "(the server closed it or sent data that is not SSH); see the detail",
                detail: error.detail)
        }
        var length = 0
        var type: Int32 = 0
        guard let key = libssh2_session_hostkey(session, &length, &type), length > 0 else {
            throw failure(.handshake, "the server presented no host key")
        }
        let blob = [UInt8](UnsafeRawBufferPointer(start: key, count: length))
        return HostKeyInfo(
            type: Self.keyType(ofBlob: blob) ?? "unknown", fingerprint: sha256Fingerprint(blob),
            blob: blob)
    }

    /// Waits for the server's first bytes, its banner, within the connect timeout: a port
    /// that accepts and never speaks is as dead as one that refuses. The longer handshake
    /// timeout is for slow key exchanges and authentication, not for silence.
    func awaitBanner(within timeout: Duration) async throws(SSHError) {
        let deadline = ContinuousClock.now + timeout
        let interest = EventLoop.Interest(fd: handle.socket, events: Int16(POLLIN))
        while true {
            switch await loop.wait(for: [interest], deadline: deadline, group: group) {
            case .ready: return
            case .kicked: continue
            case .timedOut: throw handshakeInterrupted(.timedOut, timeout: timeout)
            case .cancelled: throw handshakeInterrupted(.cancelled, timeout: timeout)
            case .lost:
                let error = lostError ?? lostConnection(reason: "the connection was lost")
                throw handshakeInterrupted(.lost(error), timeout: timeout)
            }
        }
    }

    /// What is wrong with the server's greeting when it holds no SSH-2.0 banner: the port
    /// answers, but with another protocol (HTTP, SMTP) or with noise. libssh2 keeps the last
    /// line it read, which is shown, cut short and made printable.
    func bannerProblem() -> String? {
        let banner = libssh2_session_banner_get(session).map { String(cString: $0) }
        if let banner, banner.hasPrefix("SSH-2.0-") || banner.hasPrefix("SSH-1.99-") {
            return nil
        }
        // Quoted short and printable: the line came from a stranger and may hold anything.
        let shown = banner.map { line -> String in
            let printable = String(line.unicodeScalars.prefix(60).map {
                $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F ? Character($0) : "?"
            })
            return "\"" + printable + (line.unicodeScalars.count > 60 ? "…" : "") + "\""
        }
        return "the server did not send an SSH banner ("
            + (shown.map { "a line it sent: " + $0 } ?? "it sent no readable line")
            + "); is this port an SSH server?"
    }

    func handshakeInterrupted(_ interruption: Interruption, timeout: Duration) -> SSHError {
        switch interruption {
        case .timedOut:
            if handle.counter.bytes > 0, let problem = bannerProblem() {
                return SSHError(.handshake, alias: alias, endpoint: endpoint, message: problem)
            }
            let what = handle.counter.bytes == 0
                ? "no SSH banner within \(DurationText(timeout)); the port accepts connections "
                    + "but does not speak SSH"
                : "SSH handshake and authentication did not finish within "
                    + "\(DurationText(timeout)); the server or the network is overloaded"
            return SSHError(.connectTimeout, alias: alias, endpoint: endpoint, message: what)
        case .cancelled, .lost:
            return interrupted(interruption, doing: "connecting")
        }
    }

    /// The algorithm name a key blob starts with: a length-prefixed string.
    static func keyType(ofBlob blob: [UInt8]) -> String? {
        guard blob.count >= 4 else { return nil }
        let length = blob[0..<4].reduce(0) { $0 << 8 | Int($1) }
        guard length > 0, blob.count >= 4 + length else { return nil }
        return String(decoding: blob[4..<(4 + length)], as: UTF8.self)
    }
}
