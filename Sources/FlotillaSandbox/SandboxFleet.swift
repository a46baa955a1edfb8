// Starting, stopping and inspecting a fleet of sshd servers on 127.0.0.1.

import FlotillaSupport
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class SandboxFleet: Sendable {
    public let options: SandboxOptions
    /// The fleet's folder, as an absolute path.
    public let folder: String
    /// The ed25519 private key every host accepts.
    public let identityFile: String
    /// known_hosts with every server's keys, as `[127.0.0.1]:PORT` lines.
    public let knownHostsFile: String
    /// The inventory written for this fleet.
    public let inventoryPath: String

    private let state: Mutex<SandboxState>
    /// Set by `down()`, so releasing the object afterwards does nothing more.
    private let isDown = Mutex(false)

    /// The servers, with their current pids (0 for a stopped one).
    public var hosts: [SandboxHost] { state.withLock { $0.servers.map(\.host) } }

    func stateSnapshot() -> SandboxState { state.withLock { $0 } }

    func updateState(_ change: (inout SandboxState) -> Void) {
        state.withLock { change(&$0) }
    }

    private init(options: SandboxOptions, folder: String, state: SandboxState) {
        self.options = options
        self.folder = folder
        self.identityFile = state.identityFile
        self.knownHostsFile = state.knownHostsFile
        self.inventoryPath = state.inventoryPath
        self.state = Mutex(state)
    }

    deinit {
        if !options.keepRunning && !isDown.withLock({ $0 }) { down() }
    }

    /// Starts the servers on free ports of 127.0.0.1, waits until each accepts connections,
    /// and writes the inventory and known_hosts. Blocks for a few seconds: from async code
    /// use `start(_:)` or `withFleet(_:_:)`.
    public static func up(_ options: SandboxOptions) throws(SandboxError) -> SandboxFleet {
        guard options.count >= 1 else {
            throw SandboxError(
                "a sandbox fleet needs at least one host (asked for \(options.count))",
                code: .invalidOptions)
        }
        let folder = absolute(options.folder)
        let inventoryPath = absolute(options.inventoryPath)
        try refuseIfRunning(in: folder)
        try TemporaryFile.makeFolder(folder)
        try TemporaryFile.makeFolder("\(folder)/hosts")
        try TemporaryFile.makeFolder(
            URL(fileURLWithPath: inventoryPath).deletingLastPathComponent().path)
        let runsAsRoot = geteuid() == 0
        // sshd refuses to start as root without its privilege separation folder.
        if runsAsRoot { try TemporaryFile.makeFolder("/run/sshd") }

        let names = (1...options.count).map { "\(options.namePrefix)\($0)" }
        var accounts: [SandboxUsers.Account] = []
        for name in names {
            let perHost = runsAsRoot && options.userPerHost
            accounts.append(
                perHost
                    ? try SandboxUsers.ensure(host: name, freshHome: options.freshHomes)
                    : SandboxUsers.current())
        }

        // Every host gets its own ed25519 and ECDSA keys; RSA is slow to generate, so
        // the fleet shares one RSA host key.
        let identityFile = "\(folder)/id_ed25519"
        let rsaKey = "\(folder)/ssh_host_rsa_key"
        var servers = zip(names, accounts).map { name, account in
            SandboxServer(
                name: name, port: 0, user: account.name, home: account.home,
                folder: "\(folder)/hosts/\(name)", pid: 0)
        }
        var requests = [
            SandboxKeys.Request(type: "ed25519", path: identityFile),
            SandboxKeys.Request(type: "rsa", path: rsaKey),
        ]
        for server in servers {
            try TemporaryFile.makeFolder(server.folder)
            requests.append(.init(type: "ed25519", path: server.hostKeyFiles[0]))
            requests.append(.init(type: "ecdsa", path: server.hostKeyFiles[1]))
        }
        try SandboxKeys.generate(requests, log: "\(folder)/keygen.log")
        let rsaPublic = try SandboxKeys.publicKey(rsaKey)
        for index in servers.indices {
            servers[index].hostKeys = try servers[index].hostKeyFiles.map {
                (path) throws(SandboxError) in try SandboxKeys.publicKey(path)
            } + [rsaPublic]
        }
        let authorizedKeys = "\(folder)/authorized_keys"
        try TemporaryFile.write(try SandboxKeys.publicKey(identityFile) + "\n", to: authorizedKeys)

        var state = SandboxState(
            identityFile: identityFile,
            knownHostsFile: SandboxInventory.knownHostsPath(forInventory: inventoryPath),
            inventoryPath: inventoryPath, authorizedKeys: authorizedKeys,
            sharedHostKeys: [rsaKey], ipv6: options.ipv6,
            extraServerConfig: options.extraServerConfig, keepRunning: options.keepRunning,
            servers: servers)
        do {
            try startAll(&state, timeout: options.startTimeout)
            let hosts = state.servers.map(\.host)
            try TemporaryFile.write(
                SandboxInventory.knownHosts(hosts, ipv6: options.ipv6), to: state.knownHostsFile)
            try TemporaryFile.write(
                SandboxInventory.yaml(
                    hosts, identityFile: identityFile, knownHostsFile: state.knownHostsFile),
                to: inventoryPath)
            try state.save(in: folder)
        } catch {
            for server in state.servers where server.pid != 0 { server.stop(signal: SIGKILL) }
            throw error
        }
        return SandboxFleet(options: options, folder: folder, state: state)
    }

    /// `up(_:)` on a thread of its own, so the caller's executor is never blocked.
    public static func start(_ options: SandboxOptions) async throws(SandboxError)
        -> SandboxFleet
    {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<SandboxFleet, SandboxError>, Never>) in
            DetachedThread.start {
                let result = Result { () throws(SandboxError) in try up(options) }
                continuation.resume(returning: result)
            }
        }
        return try result.get()
    }

    /// Starts a fleet, runs `body` with it, and stops the fleet afterwards, also when
    /// `body` throws (the folder is then kept, with the servers' logs).
    public static func withFleet<T: Sendable>(
        _ options: SandboxOptions, _ body: (SandboxFleet) async throws -> T
    ) async throws -> T {
        let fleet = try await start(options)
        do {
            let value = try await body(fleet)
            await fleet.stopInBackground(keepingFolder: !options.removeFolderWhenDown)
            return value
        } catch {
            await fleet.stopInBackground(keepingFolder: true)
            throw error
        }
    }

    /// `down` on a thread of its own: stopping waits for processes to end.
    private func stopInBackground(keepingFolder: Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DetachedThread.start {
                self.down(keepingFolder: keepingFolder)
                continuation.resume()
            }
        }
    }

    /// Stops exactly the processes this fleet started, with their connections. The
    /// folder stays, with the logs, unless the options say to remove it.
    public func down() {
        down(keepingFolder: !options.removeFolderWhenDown)
    }

    private func down(keepingFolder: Bool) {
        isDown.withLock { $0 = true }
        let servers = state.withLock { state in
            defer { for index in state.servers.indices { state.servers[index].pid = 0 } }
            return state.servers
        }
        for server in servers where server.pid != 0 { server.stop() }
        unlink(SandboxState.file(in: folder))
        if !keepingFolder { try? FileManager.default.removeItem(atPath: folder) }
    }

    /// Stops the fleet recorded in `folder`, from any process: only pids that are still
    /// an sshd running that fleet's config are signalled. Returns the hosts stopped.
    @discardableResult
    public static func down(folder: String) throws(SandboxError) -> [String] {
        let folder = absolute(folder)
        let state = try SandboxState.load(from: folder)
        var stopped: [String] = []
        for server in state.servers
        where ProcessTable.isServer(server.pid, configFile: server.configFile) {
            server.stop()
            stopped.append(server.name)
        }
        unlink(SandboxState.file(in: folder))
        return stopped
    }

    /// The hosts recorded in `folder` and whether each server is running.
    public static func status(folder: String) throws(SandboxError) -> [SandboxHostStatus] {
        let state = try SandboxState.load(from: absolute(folder))
        return state.servers.map { server in
            SandboxHostStatus(
                host: server.host,
                running: ProcessTable.isServer(server.pid, configFile: server.configFile))
        }
    }

    /// A new private folder (0700) in the temporary folder.
    public static func makeTemporaryFolder() throws(SandboxError) -> String {
        var template = Array(TemporaryFile.path(prefix: "flotilla-sandbox").utf8CString)
        template.removeLast()
        template += Array("-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw SandboxError("could not create a temporary folder; check TMPDIR")
        }
        return String(cString: made)
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/")
            ? path
            : URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
                .appendingPathComponent(path).standardized.path
    }

    private static func refuseIfRunning(in folder: String) throws(SandboxError) {
        guard FileManager.default.fileExists(atPath: SandboxState.file(in: folder)),
            let running = try? status(folder: folder).filter(\.running), !running.isEmpty
        else { return }
        throw SandboxError(
            "a sandbox fleet is already running in \(folder) (\(running.count) servers); "
                + "stop it first with `flotilla sandbox down`", code: .alreadyRunning)
    }
}
