// From an inventory host to the SSH layer's `ConnectOptions`: which keys to offer (files,
// key text from the environment, the agent), which known_hosts to trust, and timeouts.

import FlotillaSupport
import FlotillaConfig
import FlotillaSSH
import FoundationEssentials

struct ConnectionSettings {
    let host: InventoryHost
    let environment: [String: String]

    /// The keys OpenSSH tries when none is named.
    static let defaultKeys = ["id_ed25519", "id_ecdsa", "id_rsa"]

    func options(jump: Session?) throws(SSHError) -> ConnectOptions {
        let endpoint = Endpoint(host: host.address, port: host.port)
        let passphrase = try resolvePassphrase(endpoint)
        var identities: [Identity] = []
        for source in host.identities {
            switch source {
            case .file(let path):
                identities.append(.file(path: path, passphrase: passphrase))
            case .env(let name):
                guard let text = environment[name], !text.isEmpty else {
                    throw SSHError(
                        .keyInvalid, alias: host.name, endpoint: endpoint,
                        message: "identity env:\(name) is not set; export the key text in"
                            + " \(name) or name a key file")
                }
                identities.append(.text(source: "env:\(name)", key: text, passphrase: passphrase))
            }
        }
        if host.identities.isEmpty {
            let home = environment["HOME"] ?? LocalPath.home
            for name in Self.defaultKeys {
                let path = home + "/.ssh/" + name
                if FileManager.default.fileExists(atPath: path) {
                    identities.append(.file(path: path, passphrase: passphrase))
                }
            }
        }
        if let socket = environment["SSH_AUTH_SOCK"], !socket.isEmpty {
            identities.append(.agent)
        }

        var files: [String] = []
        var texts: [(source: String, text: String)] = []
        for source in host.knownHosts {
            switch source {
            case .file(let path): files.append(path)
            case .env(let name):
                guard let text = environment[name] else {
                    throw SSHError(
                        .knownHostsInvalid, alias: host.name, endpoint: endpoint,
                        message: "known_hosts env:\(name) is not set; export it or name a file")
                }
                texts.append((source: "env:\(name)", text: text))
            }
        }
        if host.knownHosts.isEmpty {
            files.append((environment["HOME"] ?? LocalPath.home) + "/.ssh/known_hosts")
        }
        let policy = HostKeyPolicy(
            knownHostsFiles: files, knownHostsText: texts, fingerprint: host.fingerprint,
            mode: host.hostKeys == .acceptNew ? .acceptNew : .strict)
        return ConnectOptions(
            alias: host.name, endpoint: endpoint, user: host.user, identities: identities,
            hostKeys: policy, connectTimeout: host.connectTimeout, jump: jump)
    }

    private func resolvePassphrase(_ endpoint: Endpoint) throws(SSHError) -> String? {
        switch host.passphrase {
        case nil:
            return nil
        case .env(let name):
            guard let value = environment[name] else {
                throw SSHError(
                    .keyInvalid, alias: host.name, endpoint: endpoint,
                    message: "passphrase env:\(name) is not set; export it before the run")
            }
            return value
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw SSHError(
                    .keyInvalid, alias: host.name, endpoint: endpoint,
                    message: "passphrase file \(path) cannot be read")
            }
            return String(decoding: data, as: UTF8.self).trimming(while: \.isLineBreak)
        case .command(let command):
            return try runPassphraseCommand(command, endpoint)
        }
    }

    /// `command:` passphrases: the command's first line of output.
    private func runPassphraseCommand(
        _ command: String, _ endpoint: Endpoint
    ) throws(SSHError) -> String {
        // Standard error is inherited, so the command can say why it failed.
        let shell = LocalCommand(shell: command, errorOutput: .inherited)
        let finished: LocalCommand.Finished
        switch shell.run() {
        case .success(let value):
            finished = value
        case .failure(.cannotStart):
            throw SSHError(
                .keyInvalid, alias: host.name, endpoint: endpoint,
                message: "passphrase command could not start: \(command)")
        case .failure(.timedOut):
            preconditionFailure("a passphrase command has no time limit")
        case .failure(.cancelled):
            throw SSHError(
                .cancelled, alias: host.name, endpoint: endpoint,
                message: "passphrase command was interrupted: \(command)")
        }
        guard finished.ending.status == 0 else {
            throw SSHError(
                .keyInvalid, alias: host.name, endpoint: endpoint,
                message: "passphrase command failed (status \(finished.ending.status)):"
                    + " \(command)")
        }
        let text = String(decoding: finished.output, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init)
            ?? ""
    }
}
