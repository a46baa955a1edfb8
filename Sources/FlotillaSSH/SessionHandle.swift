internal import CLibSSH2

#if canImport(Glibc)
import Glibc
#endif

/// Counts bytes libssh2 receives from the socket. Operations on one session share the
/// socket: when one of them reads packets meant for another, the count changes and the
/// others are woken to look for their data.
final class ReceiveCounter: @unchecked Sendable {
    var bytes: UInt64 = 0
}

/// libssh2 reads through this callback so the session's receive count stays current.
private let countingReceive: @convention(c) (
    libssh2_socket_t, UnsafeMutableRawPointer?, Int, Int32,
    UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> Int = { socket, buffer, length, flags, abstract in
    let received = recv(socket, buffer, length, flags)
    if received < 0 { return -Int(errno) }
    if received > 0, let counter = abstract?.pointee {
        Unmanaged<ReceiveCounter>.fromOpaque(counter).takeUnretainedValue().bytes +=
            UInt64(received)
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
