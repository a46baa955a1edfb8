// Parsing known_hosts text as OpenSSH writes it. Every line is understood or the whole
// source is refused with its line number: a partial read would silently drop keys (R07).

import FlotillaSupport
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

struct KnownHostsFile: Sendable {
    /// The file path or `env:NAME`.
    var source: String
    var entries: [KnownHostsEntry]

    /// What was parsed, by path (with the file's identity and change time) or by text, so
    /// that hundreds of connections do not each parse the same file again. A file that
    /// changes (accept-new records a key) is read again.
    private struct Parsed {
        var files: [String: (stamp: [Int], file: KnownHostsFile)] = [:]
        var texts: [String: (text: String, file: KnownHostsFile)] = [:]
    }
    private static let parsed = Mutex(Parsed())

    /// Reads a known_hosts file; a missing file has no entries, as in OpenSSH.
    static func read(path: String) throws(SSHError) -> KnownHostsFile {
        var info = stat()
        let stamp = stat(path, &info) == 0
            ? [Int(info.st_dev), Int(info.st_ino), Int(info.st_size), info.st_mtim.tv_sec,
               info.st_mtim.tv_nsec, info.st_ctim.tv_sec, info.st_ctim.tv_nsec]
            : []
        if !stamp.isEmpty,
            let known = parsed.withLock({ $0.files[path] }), known.stamp == stamp
        {
            return known.file
        }
        let file = try readUncached(path: path)
        if !stamp.isEmpty { parsed.withLock { $0.files[path] = (stamp, file) } }
        return file
    }

    /// Parses known_hosts text once per source and text.
    static func parseOnce(_ text: String, source: String) throws(SSHError) -> KnownHostsFile {
        if let known = parsed.withLock({ $0.texts[source] }), known.text == text {
            return known.file
        }
        let file = try parse(text, source: source)
        parsed.withLock { $0.texts[source] = (text, file) }
        return file
    }

    private static func readUncached(path: String) throws(SSHError) -> KnownHostsFile {
        var isFolder = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            return KnownHostsFile(source: path, entries: [])
        }
        guard !isFolder, let data = FileManager.default.contents(atPath: path) else {
            throw SSHError(
                .knownHostsInvalid,
                message: "cannot read the known_hosts file \(path)"
                    + (isFolder ? " (it is a folder)" : "")
                    + "; check its path and permissions")
        }
        return try parse(String(decoding: data, as: UTF8.self), source: path)
    }

    /// Parses known_hosts text; `source` names it in messages.
    static func parse(_ text: String, source: String) throws(SSHError) -> KnownHostsFile {
        var entries: [KnownHostsEntry] = []
        var body = Substring(text)
        if body.hasPrefix("\u{FEFF}") { body = body.dropFirst() }
        // Lines end in LF, CRLF (a file or CI secret edited on Windows) or lone CR.
        let lines = body.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        for (index, rawLine) in lines.enumerated() {
            let line = rawLine.trimming { $0.isBlank || $0 == "\r" }
            if line.isEmpty || line.hasPrefix("#") { continue }
            entries.append(try parseLine(line, source: source, line: index + 1))
        }
        return KnownHostsFile(source: source, entries: entries)
    }

    private static func parseLine(_ text: String, source: String, line: Int)
        throws(SSHError) -> KnownHostsEntry
    {
        func invalid(_ problem: String) -> SSHError {
            SSHError(
                .knownHostsInvalid,
                message: "\(source):\(line): \(problem); fix or delete that line "
                    + "(each line is `[marker] host[,host…] key-type base64-key [comment]`)")
        }

        var fields = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        var marker = KnownHostsEntry.Marker.none
        if let first = fields.first, first.hasPrefix("@") {
            switch first {
            case "@revoked": marker = .revoked
            case "@cert-authority": marker = .certificateAuthority
            default:
                throw invalid("unknown marker \(first) (expected @revoked or @cert-authority)")
            }
            fields.removeFirst()
        }
        guard fields.count >= 3 else {
            throw invalid(
                "expected host names, a key type and a key, found \(fields.count) field(s)")
        }

        let names = try parseNames(fields[0], invalid: invalid)
        let keyType = fields[1]
        guard let decoded = Data(base64Encoded: fields[2]), !decoded.isEmpty else {
            throw invalid("the key of type \(keyType) is not valid base64")
        }
        let blob = [UInt8](decoded)
        guard let blobType = SSHWireReader.keyType(ofBlob: blob) else {
            throw invalid("the \(keyType) key is not an SSH public key blob")
        }
        guard blobType == keyType else {
            throw invalid("the line says \(keyType) but its key is \(blobType)")
        }
        guard SSHWireReader.isComplete(publicKeyBlob: blob) else {
            throw invalid("the \(keyType) key is cut short or damaged")
        }
        return KnownHostsEntry(
            marker: marker, names: names, keyType: keyType, blob: blob, source: source,
            line: line)
    }

    private static func parseNames(
        _ field: String, invalid: (String) -> SSHError
    ) throws(SSHError) -> KnownHostsEntry.Names {
        if field.hasPrefix("|") {
            let parts = field.split(separator: "|", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[1] == "1",
                let salt = Data(base64Encoded: String(parts[2])),
                let hash = Data(base64Encoded: String(parts[3])), hash.count == 20
            else {
                throw invalid("the hashed host name \(field) is not of the form |1|salt|hash")
            }
            return .hashed(salt: [UInt8](salt), hash: [UInt8](hash))
        }
        let patterns = field.split(separator: ",", omittingEmptySubsequences: false)
            .map(String.init)
        guard !patterns.contains(where: { $0.isEmpty || $0 == "!" }) else {
            throw invalid("the host list \(field) has an empty name")
        }
        return .patterns(patterns)
    }
}
