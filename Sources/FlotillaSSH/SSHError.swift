/// Everything the SSH layer can fail with. A struct with a code to switch on, the host it
/// happened on, a message that says what it means for the user and what to do, and the
/// underlying libssh2 text as detail.
public struct SSHError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The host name did not resolve.
        case resolve
        /// TCP connect refused or failed.
        case connect
        /// TCP connect, banner, handshake or authentication did not finish in time.
        case connectTimeout
        /// The SSH handshake failed (no common algorithm, protocol error).
        case handshake
        /// The host key is not known and the policy is strict.
        case hostKeyUnknown
        /// The host key differs from the one recorded or pinned.
        case hostKeyChanged
        /// The host key is marked `@revoked`.
        case hostKeyRevoked
        /// A known_hosts file could not be read or has a bad line.
        case knownHostsInvalid
        /// A private key could not be read or is not a private key.
        case keyInvalid
        /// The server refused every identity tried.
        case authenticationFailed
        /// The connection dropped or keepalives went unanswered.
        case connectionLost
        /// A command ran past its timeout.
        case commandTimeout
        /// The operation was cancelled (interrupt).
        case cancelled
        /// A channel could not be opened or failed.
        case channel
        /// An SFTP operation failed; the message names the path and the reason.
        case sftp
        /// A remote parent folder is missing (and parents were not asked for).
        case missingParent
        /// The remote disk or quota is full.
        case diskFull
        /// Permission denied on a remote path.
        case permissionDenied
    }

    public var code: Code
    /// The inventory name of the host, when known.
    public var alias: String?
    public var endpoint: Endpoint?
    /// What went wrong, in plain words, and what to do next.
    public var message: String
    /// libssh2's own code and text, or the SFTP status, kept as secondary detail.
    public var detail: String?

    public init(
        _ code: Code, alias: String? = nil, endpoint: Endpoint? = nil, message: String,
        detail: String? = nil
    ) {
        self.code = code
        self.alias = alias
        self.endpoint = endpoint
        self.message = message
        self.detail = detail
    }

    public var description: String {
        var text = ""
        if let alias {
            text += alias
            if let endpoint { text += " (\(endpoint))" }
            text += ": "
        }
        text += message
        if let detail { text += " [\(detail)]" }
        return text
    }
}
