internal import CLibSSH2

#if canImport(Glibc)
import Glibc
#endif

extension Connection {
    /// Sends keepalives from the loop's timer and declares the session lost after `count`
    /// intervals in which nothing at all came back from the server.
    func startKeepalive(interval: Duration, count: Int) {
        let seconds = max(1, Int(interval.components.seconds))
        libssh2_keepalive_config(session, 1, UInt32(seconds))
        let loop = self.loop
        let watch = KeepaliveWatch(bytes: handle.counter.bytes, at: .now)
        Task.detached { [weak self] in
            while true {
                _ = await loop.sleep(until: .now + interval)
                guard let self else { return }
                let goOn = await self.keepaliveTick(watch, interval: interval, count: count)
                if !goOn { return }
            }
        }
    }

    private func keepaliveTick(_ watch: KeepaliveWatch, interval: Duration, count: Int) -> Bool {
        if isClosed || lostError != nil { return false }
        let now = ContinuousClock.now
        if handle.counter.bytes != watch.bytes || socketHasData() {
            watch.bytes = handle.counter.bytes
            watch.at = now
        }
        let silence = now - watch.at
        if silence >= interval * count {
            markLost(SSHError(
                .connectionLost, alias: alias, endpoint: endpoint,
                message: "connection to \(alias) lost after \(DurationText(silence)) without "
                    + "response; the state of any running command is unknown"))
            return false
        }
        // A half-sent packet must be finished by its owner before anything else is sent.
        if !hasHalfSentPacket {
            var next: Int32 = 0
            _ = libssh2_keepalive_send(session, &next)
        }
        return true
    }

    /// Unread bytes in the socket are an answer too: nobody may be reading right now.
    private func socketHasData() -> Bool {
        var entry = pollfd(fd: handle.socket, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) > 0 && entry.revents & Int16(POLLIN) != 0
    }
}

/// What the keepalive timer last heard from the server, and when.
final class KeepaliveWatch: @unchecked Sendable {
    var bytes: UInt64
    var at: ContinuousClock.Instant

    init(bytes: UInt64, at: ContinuousClock.Instant) {
        self.bytes = bytes
        self.at = at
    }
}

/// A duration as people write it in configuration: `10s`, `1.5s`, `250ms`, `2m`.
struct DurationText: CustomStringConvertible {
    var duration: Duration

    init(_ duration: Duration) {
        self.duration = duration
    }

    var description: String {
        let (seconds, attoseconds) = duration.components
        let millis = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        if millis < 1000 { return "\(millis)ms" }
        if millis % 60_000 == 0 { return "\(millis / 60_000)m" }
        if millis % 1000 == 0 { return "\(millis / 1000)s" }
        let tenths = (millis + 50) / 100
        return "\(tenths / 10).\(tenths % 10)s"
    }
}
