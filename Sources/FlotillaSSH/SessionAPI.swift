// The public face of the SSH layer. The bodies marked "not built yet" are filled in by the
// session implementation; the types and signatures are what the engine and CLI build on.

import FoundationEssentials

/// Where a host listens. `host` is a name or an IP literal, never bracketed.
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int = 22) {
        self.host = host
        self.port = port
    }

    /// `host:port`, with IPv6 literals in brackets: `[2001:db8::10]:2222`.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The name known_hosts records: the bare host for port 22, `[host]:port` otherwise.
    public var knownHostsName: String {
        port == 22 ? host : "[\(host)]:\(port)"
    }
}

/// A private key to authenticate with, tried in order.
public enum Identity: Sendable {
    /// A key file on this machine.
    case file(path: String, passphrase: String?)
    /// Key text from somewhere else (an environment variable fed by a CI secret);
    /// `source` names it in messages (`env:DEPLOY_KEY`), never the text.
    case text(source: String, key: String, passphrase: String?)
    /// Whatever keys ssh-agent (`SSH_AUTH_SOCK`) offers.
    case agent
}

/// How a host's key is checked. There is no mode that accepts any key.
public struct HostKeyPolicy: Sendable {
    public enum Mode: String, Sendable {
        /// Unknown keys are refused.
        case strict
        /// Unknown keys are recorded in the first writable known_hosts file; changed keys
        /// are refused.
        case acceptNew = "accept-new"
    }

    /// known_hosts files, read in order.
    public var knownHostsFiles: [String]
    /// known_hosts text from elsewhere (an environment variable), with a name for messages.
    public var knownHostsText: [(source: String, text: String)]
    /// A pinned `SHA256:…` fingerprint; when set it decides alone.
    public var fingerprint: String?
    public var mode: Mode

    public init(
        knownHostsFiles: [String], knownHostsText: [(source: String, text: String)] = [],
        fingerprint: String? = nil, mode: Mode = .strict
    ) {
        self.knownHostsFiles = knownHostsFiles
        self.knownHostsText = knownHostsText
        self.fingerprint = fingerprint
        self.mode = mode
    }
}

/// Everything needed to open one session.
public struct ConnectOptions: Sendable {
    /// The inventory's name for the host, used in every message.
    public var alias: String
    public var endpoint: Endpoint
    public var user: String
    public var identities: [Identity]
    public var hostKeys: HostKeyPolicy
    public var connectTimeout: Duration
    /// Bounds the SSH handshake and authentication together.
    public var handshakeTimeout: Duration
    public var keepaliveInterval: Duration
    /// Unanswered keepalives after which the connection is declared lost.
    public var keepaliveCount: Int
    /// Reach the host through this already open session (a jump host).
    public var jump: Session?

    public init(
        alias: String, endpoint: Endpoint, user: String, identities: [Identity],
        hostKeys: HostKeyPolicy, connectTimeout: Duration = .seconds(10),
        handshakeTimeout: Duration = .seconds(30), keepaliveInterval: Duration = .seconds(15),
        keepaliveCount: Int = 3, jump: Session? = nil
    ) {
        self.alias = alias
        self.endpoint = endpoint
        self.user = user
        self.identities = identities
        self.hostKeys = hostKeys
        self.connectTimeout = connectTimeout
        self.handshakeTimeout = handshakeTimeout
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveCount = keepaliveCount
        self.jump = jump
    }
}

/// A host key as the server presented it.
public struct HostKeyInfo: Sendable, Hashable {
    /// `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`, …
    public var type: String
    /// `SHA256:` and the unpadded base64 of the key blob's SHA-256, as OpenSSH prints it.
    public var fingerprint: String
    /// The key blob, as it would appear base64-encoded in known_hosts.
    public var blob: [UInt8]

    public init(type: String, fingerprint: String, blob: [UInt8]) {
        self.type = type
        self.fingerprint = fingerprint
        self.blob = blob
    }
}

/// How a remote command ended. Only `.exited(0)` is success.
public enum ExitStatus: Sendable, Hashable, CustomStringConvertible {
    case exited(Int32)
    /// Killed by a signal, named without the `SIG` prefix (`TERM`, `KILL`).
    case signalled(String)
    /// The channel closed without an exit status: the command's fate is not known.
    case unknown

    public var succeeded: Bool { self == .exited(0) }

    public var description: String {
        switch self {
        case .exited(let code): "exited with status \(code)"
        case .signalled(let name): "terminated by SIG\(name)"
        case .unknown: "unknown (the channel closed without reporting one)"
        }
    }
}

/// A piece of a remote command's output, as it arrived. Bytes, not text: nothing is decoded
/// or dropped here.
public struct OutputChunk: Sendable {
    public enum Stream: Sendable { case stdout, stderr }
    public var stream: Stream
    public var bytes: [UInt8]

    public init(stream: Stream, bytes: [UInt8]) {
        self.stream = stream
        self.bytes = bytes
    }
}

public struct ExecResult: Sendable {
    public var status: ExitStatus
    public var duration: Duration

    public init(status: ExitStatus, duration: Duration) {
        self.status = status
        self.duration = duration
    }
}

/// One file to put on the host.
public struct UploadRequest: Sendable {
    public enum Contents: Sendable {
        case bytes([UInt8])
        case localFile(path: String)
    }

    public var contents: Contents
    /// Absolute remote path, or `~/…` for the login user's home.
    public var remotePath: String
    /// Permission bits, for example `0o600`.
    public var mode: UInt32
    /// Create missing parent folders (0755) instead of failing.
    public var createParents: Bool

    public init(contents: Contents, remotePath: String, mode: UInt32, createParents: Bool = false) {
        self.contents = contents
        self.remotePath = remotePath
        self.mode = mode
        self.createParents = createParents
    }
}

public enum UploadOutcome: Sendable, Hashable {
    /// The remote file already had these bytes and this mode; nothing was written.
    case unchanged
    /// The file was written (atomically: temporary name, sync, rename).
    case written(bytes: Int)
}

/// A command kept running on its own channel (`Session.openShell`).
public struct RemoteShell: Sendable, Hashable {
    let id: Int
}

/// What a remote path is, as SFTP stat reports it.
public struct RemoteFileInfo: Sendable, Hashable {
    public var size: UInt64
    /// Permission bits only (`0o644`).
    public var mode: UInt32
    public var isDirectory: Bool
    public var uid: UInt32
    public var gid: UInt32

    public init(size: UInt64, mode: UInt32, isDirectory: Bool, uid: UInt32, gid: UInt32) {
        self.size = size
        self.mode = mode
        self.isDirectory = isDirectory
        self.uid = uid
        self.gid = gid
    }
}

/// Upload progress: bytes sent so far of the total.
public typealias UploadProgress = @Sendable (_ sent: Int, _ total: Int) -> Void
