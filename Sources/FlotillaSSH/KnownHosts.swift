// Reading and writing known_hosts for `flotilla trust` and for accept-new.

import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

/// Reading and writing known_hosts for `flotilla trust`.
public enum KnownHosts {
    public enum Status: Sendable, Hashable {
        case matches
        case unknown
        /// A different key of the same type is recorded (`file:line`).
        case changed(recorded: HostKeyInfo, at: String)
        case revoked
    }

    /// What the known_hosts files say of this key for this endpoint. Keys of other types
    /// recorded for the endpoint do not decide: the key is then `.unknown`.
    public static func status(
        of key: HostKeyInfo, for endpoint: Endpoint, files: [String]
    ) throws(SSHError) -> Status {
        let verifier = try HostKeyVerifier(
            policy: HostKeyPolicy(knownHostsFiles: files), alias: endpoint.description,
            endpoint: endpoint)
        let entries = verifier.entries
        if entries.contains(where: { $0.marker == .revoked && $0.blob == key.blob }) {
            return .revoked
        }
        let recorded = entries.filter { $0.marker == .none }
        if recorded.contains(where: { $0.blob == key.blob }) { return .matches }
        let type = SSHWireReader.keyType(ofBlob: key.blob) ?? key.type
        if let entry = recorded.first(where: { $0.keyType == type }) {
            return .changed(recorded: entry.key, at: entry.location)
        }
        return .unknown
    }

    /// Appends `[host]:port type base64` (the bare host for port 22), creating the file
    /// (0600) and its folder when missing.
    public static func record(_ key: HostKeyInfo, for endpoint: Endpoint, in file: String)
        throws(SSHError)
    {
        let path = HostKeyVerifier.expandingHome(file)
        let type = SSHWireReader.keyType(ofBlob: key.blob) ?? key.type
        // OpenSSH compares and writes host names in lower case.
        let name = endpoint.knownHostsName.lowercased()
        let line = "\(name) \(type) \(Data(key.blob).base64EncodedString())\n"
        func failure(_ what: String) -> SSHError {
            SSHError(
                .knownHostsInvalid, endpoint: endpoint,
                message: "cannot record the host key in \(path): \(what); check the path and "
                    + "its permissions")
        }

        let folder = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? ""
        if !folder.isEmpty {
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o700])
            } catch {
                throw failure("its folder cannot be created")
            }
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure(String(cString: strerror(errno))) }
        defer { close(fd) }

        // A last line without its newline would be glued to the new one.
        var text = line
        if let existing = FileManager.default.contents(atPath: path), let last = existing.last,
            last != UInt8(ascii: "\n")
        {
            text = "\n" + line
        }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw failure(String(cString: strerror(errno))) }
    }
}
