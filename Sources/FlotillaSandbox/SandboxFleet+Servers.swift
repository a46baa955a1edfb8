// Bringing servers up (all at once, then waiting for their banners) and the per-host
// controls fault tests use: stop, kill, start again on the same port, pause and resume.

import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private let authorizedKeysLock = Mutex(())

extension SandboxFleet {
    /// Stops one server cleanly (SIGTERM) and drops its connections.
    public func stop(_ name: String) throws(SandboxError) {
        let server = try take(name)
        server.stop(signal: SIGTERM)
    }

    /// Kills one server outright (SIGKILL) with its connections, like a crash.
    public func kill(_ name: String) throws(SandboxError) {
        let server = try take(name)
        server.stop(signal: SIGKILL)
    }

    /// Starts a stopped server again on the same port, with the same keys and config.
    public func start(_ name: String) throws(SandboxError) {
        var state = self.stateSnapshot()
        guard let index = state.servers.firstIndex(where: { $0.name == name }) else {
            throw unknownHost(name)
        }
        let current = state.servers[index]
        if ProcessTable.isServer(current.pid, configFile: current.configFile) { return }
        var one = state
        one.servers = [state.servers[index]]
        try Self.startAll(&one, timeout: options.startTimeout, keepPorts: true)
        let started = one.servers[0]
        updateState { $0.servers[index] = started }
        try? stateSnapshot().save(in: folder)
    }

    /// Freezes a server and its connections (SIGSTOP): TCP still connects, nothing
    /// answers, like a hung machine.
    public func pause(_ name: String) throws(SandboxError) {
        try server(named: name).send(SIGSTOP)
    }

    /// Lets a paused server and its connections go on (SIGCONT).
    public func resume(_ name: String) throws(SandboxError) {
        try server(named: name).send(SIGCONT)
    }

    /// Lets every host of the fleet accept another public key (`type base64`), for tests
    /// of other identities: encrypted keys, agent keys, keys from environment variables.
    public func authorize(publicKey: String) throws(SandboxError) {
        let file = stateSnapshot().authorizedKeys
        // Two tests may add keys at once; neither addition may be lost.
        let failure = authorizedKeysLock.withLock { _ -> SandboxError? in
            let current = TemporaryFile.read(file) ?? ""
            do throws(SandboxError) {
                try TemporaryFile.write(current + publicKey.trimmed + "\n", to: file)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// The host with this inventory name.
    public func host(named name: String) -> SandboxHost? {
        hosts.first { $0.name == name }
    }

    /// Starts every server of `state` at once and waits until each answers with an SSH
    /// banner. A server that lost its port to another program is moved to a new free
    /// port, unless `keepPorts` (a restart must come back where it was).
    static func startAll(
        _ state: inout SandboxState, timeout: Duration, keepPorts: Bool = false
    ) throws(SandboxError) {
        let runsAsRoot = geteuid() == 0
        let newSession = state.keepRunning
        var children: [Int: ChildProcess] = [:]
        var portRetries: [Int: Int] = [:]
        var logOffsets: [Int: Int] = [:]

        func launch(_ index: Int) throws(SandboxError) {
            if !keepPorts || state.servers[index].port == 0 {
                guard let port = LoopbackProbe.freePort(alsoIPv6: state.ipv6) else {
                    throw SandboxError(
                        "no free port on 127.0.0.1 for a sandbox server", code: .noFreePort)
                }
                state.servers[index].port = port
                // A fresh log, so an earlier bind failure is not read again.
                try TemporaryFile.write("", to: state.servers[index].logFile)
            }
            let server = state.servers[index]
            logOffsets[index] = server.logLength
            try TemporaryFile.write(
                server.configuration(
                    sharedHostKeys: state.sharedHostKeys, authorizedKeys: state.authorizedKeys,
                    runsAsRoot: runsAsRoot, ipv6: state.ipv6, extra: state.extraServerConfig),
                to: server.configFile)
            children[index] = try server.start(newSession: newSession)
            state.servers[index].pid = children[index]!.pid
        }

        do throws(SandboxError) {
            for index in state.servers.indices { try launch(index) }
            let deadline = ContinuousClock.now + timeout
            var waiting = Set(state.servers.indices)
            while !waiting.isEmpty {
                for index in waiting.sorted() {
                    guard let ending = children[index]!.endingIfFinished() else { continue }
                    let server = state.servers[index]
                    state.servers[index].pid = 0
                    let retries = portRetries[index, default: 0]
                    if server.logShowsPortTaken && !keepPorts && retries < 5 {
                        portRetries[index] = retries + 1
                        try launch(index)
                        continue
                    }
                    throw SandboxError(
                        "sshd for \(server.name) (127.0.0.1:\(server.port)) \(ending) "
                            + "while starting:\n\(server.logTail)\nsee \(server.logFile)",
                        code: keepPorts && server.logShowsPortTaken ? .noFreePort : .serverFailed)
                }
                // Only a server that says it holds its port is probed: the port may belong
                // to another fleet's server when this one lost the race for it.
                let listening = waiting.filter {
                    state.servers[$0].logShowsListening(after: logOffsets[$0, default: 0])
                }
                let ports = Dictionary(
                    listening.map { (state.servers[$0].port, $0) }, uniquingKeysWith: { a, _ in a })
                let answered = LoopbackProbe.answeringSSH(
                    ports: Array(ports.keys), timeoutMilliseconds: 1000)
                for port in answered { waiting.remove(ports[port]!) }
                if waiting.isEmpty { break }
                if ContinuousClock.now > deadline {
                    let names = waiting.sorted().map { state.servers[$0].name }
                    throw SandboxError(
                        "sandbox servers did not answer within \(timeout): "
                            + "\(names.joined(separator: ", ")); see their sshd.log files "
                            + "under \(state.servers[0].folder)/..",
                        code: .startTimeout)
                }
                usleep(20_000)
            }
        } catch {
            for server in state.servers where server.pid != 0 { server.stop(signal: SIGKILL) }
            for index in state.servers.indices { state.servers[index].pid = 0 }
            throw error
        }
    }

    /// Marks a server stopped and returns it as it was, ready to be signalled.
    private func take(_ name: String) throws(SandboxError) -> SandboxServer {
        let found = try server(named: name)
        updateState { state in
            if let index = state.servers.firstIndex(where: { $0.name == name }) {
                state.servers[index].pid = 0
            }
        }
        try? stateSnapshot().save(in: folder)
        return found
    }

    private func server(named name: String) throws(SandboxError) -> SandboxServer {
        guard let server = stateSnapshot().servers.first(where: { $0.name == name }) else {
            throw unknownHost(name)
        }
        return server
    }

    private func unknownHost(_ name: String) -> SandboxError {
        let names = hosts.map(\.name).joined(separator: ", ")
        return SandboxError(
            "no host \(name) in the sandbox fleet (hosts: \(names))", code: .unknownHost)
    }
}
