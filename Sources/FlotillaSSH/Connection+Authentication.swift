import FlotillaSupport
internal import CLibSSH2
import FoundationEssentials

extension Connection {
    /// Tries each identity in order until the server accepts one.
    func authenticate(
        identities: [Identity], timeout: Duration, deadline: ContinuousClock.Instant
    ) async throws(SSHError) {
        let operation = makeOperation(deadline: deadline, cancellable: true)
        do {
            try await authenticate(identities: identities, operation: operation)
        } catch let interruption as Interruption {
            throw handshakeInterrupted(interruption, timeout: timeout)
        } catch let error as SSHError {
            throw error
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
    }

    private func authenticate(identities: [Identity], operation: Operation) async throws {
        let session = self.session
        let user = self.user
        let userLength = UInt32(user.utf8.count)
        // Keys are offered straight away; the methods the server takes are asked for only
        // to explain a refusal, since asking costs every host a round trip.
        var tried: [String] = []
        var triedRSA = false
        var unreadable: [SSHError] = []
        var wrongPassphrase: [String] = []
        for identity in identities {
            switch identity {
            case .agent:
                let offered = try await authenticateWithAgent(operation)
                if offered.accepted { return }
                tried.append(contentsOf: offered.keys)
            case .file, .text:
                let material: PrivateKeyMaterial
                do {
                    material = try PrivateKeyMaterial.load(identity)
                } catch {
                    unreadable.append(error)
                    continue
                }
                if try await authenticate(with: material, operation: operation) { return }
                tried.append(material.source)
                // An encrypted key libssh2 could not unpack (-14, -16) was never offered:
                // the passphrase is wrong, whatever the server would have said.
                let code = LibSSH2Runtime.lastError(session).code
                if material.isEncrypted,
                    code == LIBSSH2_ERROR_PROTO || code == LIBSSH2_ERROR_FILE
                {
                    wrongPassphrase.append(material.source)
                }
                if material.keyType == "ssh-rsa"
                    || (material.keyType == nil && Self.looksLikeRSA(material.pem))
                {
                    triedRSA = true
                }
            }
        }
        if tried.isEmpty, let first = unreadable.first { throw first }
        let methodList = try? await performPointer(operation) {
            libssh2_userauth_list(session, user, userLength)
        }
        if methodList == nil && libssh2_userauth_authenticated(session) != 0 { return }
        let methods = methodList.map { String(cString: $0) } ?? ""
        if !wrongPassphrase.isEmpty, wrongPassphrase.count == tried.count {
            throw SSHError(
                .keyInvalid, alias: alias, endpoint: endpoint,
                message: "the passphrase for \(wrongPassphrase.joined(separator: ", ")) is wrong:"
                    + " the key could not be decrypted, so it was never offered to the server;"
                    + " check the host's `passphrase` setting",
                detail: "libssh2 \(LibSSH2Runtime.lastError(session).code)")
        }
        throw authenticationFailed(
            methods: methods, tried: tried, unreadable: unreadable, triedRSA: triedRSA)
    }

    private func authenticate(
        with key: PrivateKeyMaterial, operation: Operation
    ) async throws(Interruption) -> Bool {
        let session = self.session
        let user = self.user
        let userLength = UInt32(user.utf8.count)
        if let signer = Ed25519Signer.forKey(key) {
            return try await authenticate(with: signer, operation: operation)
        }
        // libssh2 may be called several times (EAGAIN): the key text must stay put meanwhile.
        let pem = UnsafeMutableBufferPointer<CChar>.allocate(capacity: key.pem.count)
        defer {
            pem.update(repeating: 0)
            pem.deallocate()
        }
        _ = pem.initialize(from: key.pem.map { CChar(bitPattern: $0) })
        let rc = try await perform(operation) {
            libssh2_userauth_publickey_frommemory(
                session, user, Int(userLength), nil, 0, pem.baseAddress, pem.count,
                key.passphrase)
        }
        return rc == 0
    }

    /// Offers an ed25519 key that Flotilla signs with itself.
    private func authenticate(
        with signer: Ed25519Signer, operation: Operation
    ) async throws(Interruption) -> Bool {
        let session = self.session
        let user = self.user
        // libssh2 may be called several times (EAGAIN): what it points at must stay put.
        let abstract = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: 1)
        abstract.initialize(to: Unmanaged.passUnretained(signer).toOpaque())
        defer { abstract.deallocate() }
        let blob = signer.publicKeyBlob
        let rc = try await perform(operation) {
            blob.withUnsafeBufferPointer {
                libssh2_userauth_publickey(
                    session, user, $0.baseAddress, $0.count, Ed25519Signer.callback, abstract)
            }
        }
        return withExtendedLifetime(signer) { rc == 0 }
    }

    /// Offers every key ssh-agent holds; returns whether one was accepted and their comments.
    private func authenticateWithAgent(
        _ operation: Operation
    ) async throws(Interruption) -> (accepted: Bool, keys: [String]) {
        guard let agent = libssh2_agent_init(session) else { return (false, ["ssh-agent"]) }
        defer { libssh2_agent_free(agent) }
        // The agent is a local Unix socket: these two calls answer at once.
        guard libssh2_agent_connect(agent) == 0 else {
            return (false, ["ssh-agent (not running: SSH_AUTH_SOCK is unset or stale)"])
        }
        defer { libssh2_agent_disconnect(agent) }
        guard libssh2_agent_list_identities(agent) == 0 else { return (false, ["ssh-agent"]) }

        var keys: [String] = []
        var previous: UnsafeMutablePointer<libssh2_agent_publickey>?
        while true {
            var current: UnsafeMutablePointer<libssh2_agent_publickey>?
            guard libssh2_agent_get_identity(agent, &current, previous) == 0, let current else {
                break
            }
            let comment = current.pointee.comment.map { String(cString: $0) } ?? ""
            keys.append("ssh-agent key \(comment.isEmpty ? "(no comment)" : comment)")
            let user = self.user
            let rc = try await perform(operation) { libssh2_agent_userauth(agent, user, current) }
            if rc == 0 { return (true, keys) }
            previous = current
        }
        return (false, keys.isEmpty ? ["ssh-agent (no keys)"] : keys)
    }

    private func authenticationFailed(
        methods: String, tried: [String], unreadable: [SSHError], triedRSA: Bool
    ) -> SSHError {
        let who = "\(user)@\(alias) (\(endpoint))"
        let detail = LibSSH2Runtime.lastError(session)
        if triedRSA && LibSSH2Runtime.signsRSAWithSHA1Only {
            return SSHError(
                .authenticationFailed, alias: alias, endpoint: endpoint,
                message: "RSA key for \(who) rejected. This build uses libssh2 "
                    + "\(LibSSH2Runtime.version), which can only sign with ssh-rsa (SHA-1); "
                    + "OpenSSH 8.8 and later refuse that by default. Use an ed25519 or ECDSA "
                    + "key, or a build with libssh2 1.11 or later.",
                detail: "libssh2 \(detail.code): \(detail.text)")
        }
        var message = "authentication failed for \(who); the server accepts "
            + (methods.isEmpty ? "no method" : methods.replacingEvery(",", with: ", "))
        if tried.isEmpty {
            message += "; no identity was offered: set `identity` for this host"
        } else {
            message += "; tried \(tried.joined(separator: ", "))"
        }
        for error in unreadable {
            message += "; skipped an identity that could not be read (\(error.message))"
        }
        if !methods.split(separator: ",").contains("publickey") {
            message += ". Flotilla authenticates with keys only: enable publickey on the server"
        } else if !tried.isEmpty {
            message += ". Add the public key to ~\(user)/.ssh/authorized_keys on the host"
        }
        return SSHError(
            .authenticationFailed, alias: alias, endpoint: endpoint, message: message,
            detail: "libssh2 \(detail.code): \(detail.text)")
    }

    /// For keys whose type the loader could not tell: PEM RSA headers, or an OpenSSH key
    /// whose embedded public key is `ssh-rsa`.
    static func looksLikeRSA(_ pem: [UInt8]) -> Bool {
        let text = String(decoding: pem, as: UTF8.self)
        if text.contains("BEGIN RSA PRIVATE KEY") { return true }
        guard text.contains("BEGIN OPENSSH PRIVATE KEY") else { return false }
        let body = text.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined()
        guard let data = Data(base64Encoded: body) else { return false }
        return data.prefix(200).firstRange(of: Array("ssh-rsa".utf8)) != nil
    }
}
