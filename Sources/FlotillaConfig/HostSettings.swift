// One layer of host settings as written in defaults, a group or a host. Layers are stacked
// defaults < groups (parents before children) < host, later files over earlier ones; a key
// a layer does not set lets the one below show through. Variables merge key by key.

import FlotillaSupport
import FoundationEssentials

struct HostSettings: Sendable {
    var address: String?
    var addressLocation: SourceLocation?
    var port: Int?
    var user: String?
    var identities: [TextSource]?
    var passphrase: SecretSource?
    var knownHosts: [TextSource]?
    var hostKeys: HostKeyMode?
    var fingerprint: String?
    var jump: String?
    var jumpLocation: SourceLocation?
    var connectTimeout: Duration?
    var path: [String]?
    var vars: [String: Value] = [:]

    static let defaultsKeys = [
        "port", "user", "identity", "passphrase", "known_hosts", "host_keys",
        "connect_timeout", "path", "vars",
    ]
    static let hostKeys = defaultsKeys + ["address", "fingerprint", "jump"]
    static let groupKeys = ["hosts", "children"] + defaultsKeys

    mutating func overlay(_ upper: HostSettings) {
        if let address = upper.address {
            self.address = address
            addressLocation = upper.addressLocation
        }
        port = upper.port ?? port
        user = upper.user ?? user
        identities = upper.identities ?? identities
        passphrase = upper.passphrase ?? passphrase
        knownHosts = upper.knownHosts ?? knownHosts
        hostKeys = upper.hostKeys ?? hostKeys
        fingerprint = upper.fingerprint ?? fingerprint
        if let jump = upper.jump {
            self.jump = jump
            jumpLocation = upper.jumpLocation
        }
        connectTimeout = upper.connectTimeout ?? connectTimeout
        path = upper.path ?? path
        vars.merge(upper.vars) { _, new in new }
    }
}

/// Reads settings layers from one inventory file; paths are resolved against its folder.
struct HostSettingsReader {
    var folder: String
    var environment: [String: String]
    var home: String

    func read(_ fields: Fields, log: inout DiagnosticLog) -> HostSettings {
        var settings = HostSettings()
        if let node = fields["address"], let text = log.string(node, "address") {
            switch HostAddress.parse(text) {
            case .success(let (address, warning)):
                settings.address = address.host
                settings.addressLocation = node.location
                if let warning { log.warning(warning, at: node.location) }
                if let port = address.port {
                    if let portKey = fields.keyLocation("port") {
                        log.error(
                            "the port is given twice, in 'address' and in 'port'; keep one",
                            at: portKey)
                    }
                    settings.port = port
                }
            case .failure(let problem):
                log.error("bad address: \(problem.message)", at: node.location)
            }
        }
        if let node = fields["port"] {
            settings.port = log.int(node, "port", in: 1...65535) ?? settings.port
        }
        if let node = fields["user"] { settings.user = log.string(node, "user") }
        if let node = fields["identity"], let list = log.stringItems(node, "identity") {
            settings.identities = list.compactMap {
                textSource($0.text, key: "identity", mustExist: true, at: $0.location, log: &log)
            }
        }
        if let node = fields["passphrase"], let text = log.string(node, "passphrase") {
            settings.passphrase = secretSource(
                text, key: "passphrase", at: node.location, log: &log)
        }
        if let node = fields["known_hosts"], let list = log.stringItems(node, "known_hosts") {
            settings.knownHosts = list.compactMap {
                textSource(
                    $0.text, key: "known_hosts", mustExist: false, at: $0.location, log: &log)
            }
        }
        if let node = fields["host_keys"], let text = log.string(node, "host_keys") {
            settings.hostKeys = HostKeyMode(rawValue: text)
            if settings.hostKeys == nil {
                log.error(
                    "'host_keys' must be strict or accept-new, not '\(text)'"
                        + NearestName.hint(text, in: ["strict", "accept-new"]), at: node.location)
            }
        }
        if let node = fields["fingerprint"], let text = log.string(node, "fingerprint") {
            if Self.isFingerprint(text) {
                settings.fingerprint = text
            } else {
                log.error(
                    "'fingerprint' must be SHA256: and 43 base64 characters, as "
                        + "`ssh-keygen -lf KEY` prints it, not '\(text)'", at: node.location)
            }
        }
        if let node = fields["jump"], let text = log.string(node, "jump") {
            settings.jump = text
            settings.jumpLocation = node.location
        }
        if let node = fields["connect_timeout"] {
            settings.connectTimeout = log.duration(node, "connect_timeout")
        }
        if let node = fields["path"] { settings.path = log.stringList(node, "path") }
        if let node = fields["vars"] { settings.vars = log.vars(node) }
        return settings
    }

    static func isFingerprint(_ text: String) -> Bool {
        guard text.hasPrefix("SHA256:") else { return false }
        let body = text.dropFirst(7)
        let trimmed = body.hasSuffix("=") ? body.dropLast() : body
        return trimmed.count == 43
            && trimmed.allSatisfy {
                $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "+" || $0 == "/")
            }
    }

    /// `env:NAME` (the text itself, from the environment) or a file path.
    func textSource(
        _ text: String, key: String, mustExist: Bool, at location: SourceLocation,
        log: inout DiagnosticLog
    ) -> TextSource? {
        if text.hasPrefix("env:") {
            let name = String(text.dropFirst(4))
            guard !name.isEmpty else {
                log.error("'\(key)': env: needs the name of an environment variable", at: location)
                return nil
            }
            // Not checked here: `validate` and `hosts` must work where CI secrets are absent.
            // Whoever connects reads the variable and reports it missing.
            return .env(name)
        }
        let path = LocalPath.resolve(text, folder: folder, home: home)
        if mustExist, !FileManager.default.fileExists(atPath: path) {
            log.error("'\(key)': file \(text) does not exist (looked for \(path))", at: location)
            return nil
        }
        return .file(path)
    }

    /// `env:NAME`, `file:PATH` or `command:CMD`; the value itself never sits in a file.
    func secretSource(
        _ text: String, key: String, at location: SourceLocation, log: inout DiagnosticLog
    ) -> SecretSource? {
        guard let source = SecretSource(parsing: text) else {
            log.error(
                "'\(key)' must be env:NAME, file:PATH or command:CMD; the value itself does not "
                    + "belong in a file", at: location)
            return nil
        }
        if case .file(let path) = source {
            return .file(LocalPath.resolve(path, folder: folder, home: home))
        }
        return source
    }
}

extension SecretSource {
    /// `env:NAME`, `file:PATH` or `command:CMD`; nil for anything else.
    init?(parsing text: String) {
        for (prefix, make) in [
            ("env:", SecretSource.env), ("file:", SecretSource.file),
            ("command:", SecretSource.command),
        ] as [(String, (String) -> SecretSource)] where text.hasPrefix(prefix) {
            let rest = text.dropFirst(prefix.count).trimmingBlanks()
            guard !rest.isEmpty else { return nil }
            self = make(rest)
            return
        }
        return nil
    }
}
