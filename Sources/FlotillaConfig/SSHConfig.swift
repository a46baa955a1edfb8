// The part of OpenSSH's client configuration Flotilla honours: `Host` blocks and, for an
// alias they match, HostName, User, Port, IdentityFile and ProxyJump. As in OpenSSH the first
// value found wins. `Match` blocks cannot be evaluated here and are skipped; `Include` is not
// followed (docs/inventory.md says so).

import FlotillaSupport
import FoundationEssentials

struct SSHConfig: Sendable {
    struct Option: Sendable {
        var key: String
        var value: String
        var location: SourceLocation
    }

    private struct Block: Sendable {
        /// nil for options before the first `Host`, which apply to every host.
        var patterns: [String]?
        var options: [Option] = []
    }

    /// What the configuration says about one alias.
    struct Settings: Sendable {
        var hostName: Option?
        var user: Option?
        var port: Option?
        var identityFiles: [Option] = []
        var proxyJump: Option?
    }

    private var blocks: [Block] = []

    /// Reads the file; a missing file is an empty configuration.
    static func load(path: String, log: inout DiagnosticLog) -> SSHConfig {
        guard let data = FileManager.default.contents(atPath: path) else { return SSHConfig() }
        let text = String(decoding: data, as: UTF8.self)
        log.addSource(file: path, text: text)
        return parse(text, file: path)
    }

    static func parse(_ text: String, file: String) -> SSHConfig {
        var config = SSHConfig()
        var current = Block(patterns: nil)
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false)
            .enumerated()
        {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let (key, value) = splitOption(line) else { continue }
            let column =
                rawLine.distance(
                    from: rawLine.startIndex,
                    to: rawLine.firstIndex { !$0.isWhitespace } ?? rawLine.startIndex) + 1
            let location = SourceLocation(file: file, line: index + 1, column: column)
            switch key {
            case "host":
                config.blocks.append(current)
                current = Block(
                    patterns: value.split(whereSeparator: \.isWhitespace).map(String.init))
            case "match":
                config.blocks.append(current)
                current = Block(patterns: [])
            default:
                current.options.append(Option(key: key, value: value, location: location))
            }
        }
        config.blocks.append(current)
        return config
    }

    private static func splitOption(_ line: String) -> (String, String)? {
        guard let end = line.firstIndex(where: { $0.isWhitespace || $0 == "=" }) else {
            return nil
        }
        let key = line[..<end].lowercased()
        var value = line[end...].drop { $0.isWhitespace || $0 == "=" }
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
            value = value.dropFirst().dropLast()
        }
        return (key, String(value))
    }

    func settings(for alias: String) -> Settings {
        var settings = Settings()
        for block in blocks where Self.matches(alias, block.patterns) {
            for option in block.options {
                switch option.key {
                case "hostname": settings.hostName = settings.hostName ?? option
                case "user": settings.user = settings.user ?? option
                case "port": settings.port = settings.port ?? option
                case "proxyjump": settings.proxyJump = settings.proxyJump ?? option
                case "identityfile": settings.identityFiles.append(option)
                default: break
                }
            }
        }
        if var hostName = settings.hostName {
            hostName.value = hostName.value.replacingEvery("%h", with: alias)
            settings.hostName = hostName
        }
        return settings
    }

    private static func matches(_ alias: String, _ patterns: [String]?) -> Bool {
        guard let patterns else { return true }
        var matched = false
        for pattern in patterns {
            if pattern.hasPrefix("!") {
                if Glob.matches(String(pattern.dropFirst()), alias) { return false }
            } else if Glob.matches(pattern, alias) {
                matched = true
            }
        }
        return matched
    }
}
