internal import CLibSSH2

#if canImport(Glibc)
import Glibc
#endif

/// Process-wide libssh2 state: initialised once, before the first session.
enum LibSSH2Runtime {
    private static let initialized: Bool = {
        // A peer that closes its socket must give a write error, not kill the process.
        signal(SIGPIPE, SIG_IGN)
        return libssh2_init(0) == 0
    }()

    static func ensureInitialized() {
        precondition(initialized, "libssh2_init failed")
    }

    /// `1.10.0` for the library actually loaded, not the headers built against.
    static var version: String {
        guard let text = libssh2_version(0) else { return "unknown" }
        return String(cString: text)
    }

    /// True when the loaded libssh2 signs RSA user keys only with ssh-rsa (SHA-1): the
    /// rsa-sha2-256/512 upgrade came in 1.11.
    static var signsRSAWithSHA1Only: Bool {
        let parts = version.split(separator: ".").compactMap { Int($0) }
        guard parts.count >= 2 else { return false }
        return (parts[0], parts[1]) < (1, 11)
    }

    /// libssh2's last error code and message for a session, for `SSHError.detail`.
    static func lastError(_ session: OpaquePointer) -> (code: Int32, text: String) {
        var message: UnsafeMutablePointer<CChar>?
        var length: Int32 = 0
        let code = libssh2_session_last_error(session, &message, &length, 0)
        let text = message.map { String(cString: $0) } ?? ""
        return (code, text)
    }
}
