internal import CLibSSH2

#if canImport(Glibc)
import Glibc
#endif

/// Counts bytes libssh2 receives from the socket. Operations on one session share the
/// socket: when one of them reads packets meant for another, the count changes and the
/// others are woken to look for their data.
final class ReceiveCounter: @unchecked Sendable {
    var bytes: UInt64 = 0
    /// Reads that found nothing since the current libssh2 call began. A call returns to us
    /// at its first empty read; libssh2 1.10 has paths (an SFTP version packet too short to
    /// parse) where it retries forever instead, spinning a core.
    var emptyReadsInCall = 0
    /// Set when such a loop was broken by failing the socket.
    var brokeLoop = false
    /// The most bytes the session may receive before its handshake is done. libssh2 reads
    /// the banner one byte per call and takes lines that do not start with `SSH-` as
    /// allowed chatter, so a server that sends megabytes of noise would keep the loop's
    /// thread busy reading them, and every other host on that thread waiting.
    var limit: UInt64 = .max
    /// Set when the limit was reached and the socket failed for it.
    var passedLimit = false

    /// More than a greeting, a key exchange and a host key ever take.
    static let handshakeLimit: UInt64 = 256 << 10

    /// Far more empty reads than any call makes before it returns EAGAIN to us.
    static let emptyReadLimit = 10_000
}

/// libssh2 reads through this callback so the session's receive count stays current.
private let countingReceive: @convention(c) (
    libssh2_socket_t, UnsafeMutableRawPointer?, Int, Int32,
    UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> Int = { socket, buffer, length, flags, abstract in
    let received = recv(socket, buffer, length, flags)
    let failure = errno
    guard let pointer = abstract?.pointee else { return received < 0 ? -Int(failure) : received }
    let counter = Unmanaged<ReceiveCounter>.fromOpaque(pointer).takeUnretainedValue()
    if received < 0 {
        guard failure == EAGAIN || failure == EWOULDBLOCK else { return -Int(failure) }
        counter.emptyReadsInCall += 1
        if counter.emptyReadsInCall > ReceiveCounter.emptyReadLimit {
            counter.brokeLoop = true
            return -Int(ECONNABORTED)
        }
        return -Int(failure)
    }
    counter.bytes += UInt64(received)
    if counter.bytes > counter.limit {
        counter.passedLimit = true
        return -Int(ECONNABORTED)
    }
    return received
}

/// Owns one `LIBSSH2_SESSION` and its socket, and frees both exactly once.
final class SessionHandle: @unchecked Sendable {
    let raw: OpaquePointer
    let socket: Int32
    let counter = ReceiveCounter()

    /// Takes ownership of `socket`.
    init?(socket: Int32) {
        LibSSH2Runtime.ensureInitialized()
        let abstract = Unmanaged.passUnretained(counter).toOpaque()
        guard let raw = libssh2_session_init_ex(nil, nil, nil, abstract) else {
            Glibc.close(socket)
            return nil
        }
        self.raw = raw
        self.socket = socket
        _ = libssh2_session_callback_set(
            raw, LIBSSH2_CALLBACK_RECV,
            unsafeBitCast(countingReceive, to: UnsafeMutableRawPointer.self))
        libssh2_session_set_blocking(raw, 0)
    }

    deinit {
        // The polite goodbye happened in `Connection.close` when there was time for it; here
        // the socket is shut first so freeing cannot wait on the network.
        shutdown(socket, Int32(SHUT_RDWR))
        libssh2_session_set_blocking(raw, 1)
        libssh2_session_free(raw)
        Glibc.close(socket)
    }
}
