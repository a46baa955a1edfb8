import FlotillaConfig
import FlotillaSSH
import Foundation
import Testing

@testable import FlotillaEngine

/// A host whose connection drops while a step's command runs.
struct DroppingConnector: HostConnector {
    let homes: [String: String]
    let drop: Set<String>

    func connect(_ host: InventoryHost) async throws(SSHError) -> any HostConnection {
        let local = try await LocalConnector(homes: homes).connect(host)
        return DroppingConnection(
            inner: local, drops: drop.contains(host.name), alias: host.name)
    }
}

struct DroppingConnection: HostConnection {
    let inner: any HostConnection
    let drops: Bool
    let alias: String
    var hostKeyFingerprint: String { inner.hostKeyFingerprint }

    func exec(
        _ command: String, stdin: [UInt8], timeout: Duration?,
        output: @escaping @Sendable (OutputChunk) -> Void
    ) async throws(SSHError) -> ExecResult {
        if drops, String(decoding: stdin, as: UTF8.self).contains("quiet-build") {
            throw SSHError(
                .connectionLost, alias: alias, endpoint: Endpoint(host: "127.0.0.1"),
                message: "connection lost after 45s without response")
        }
        return try await inner.exec(command, stdin: stdin, timeout: timeout, output: output)
    }

    func upload(_ request: UploadRequest, progress: UploadProgress?) async throws(SSHError)
        -> UploadOutcome
    {
        try await inner.upload(request, progress: progress)
    }

    func download(_ remotePath: String) async throws(SSHError) -> [UInt8] {
        try await inner.download(remotePath)
    }

    func stat(_ remotePath: String) async throws(SSHError) -> RemoteFileInfo? {
        try await inner.stat(remotePath)
    }

    func remove(_ remotePath: String) async throws(SSHError) {
        try await inner.remove(remotePath)
    }

    func makeDirectory(_ remotePath: String, mode: UInt32, parents: Bool)
        async throws(SSHError)
    {
        try await inner.makeDirectory(remotePath, mode: mode, parents: parents)
    }

    func close() async { await inner.close() }
}

@Suite struct ConnectionFaultTests {
    /// R27: a connection lost during a long quiet step ends that host as unreachable with
    /// exit 3, never as a success, and the others go on.
    @Test func aConnectionLostDuringAStepMakesTheHostUnreachable() async throws {
        let fleet = try TestFleet(count: 2)
        defer { fleet.remove() }
        let plans = fleet.plans([
            ("build", { _ in [run("echo quiet-build", name: "build"), run("touch ~/after")] }),
        ])
        let outcome = await fleet.run(
            plans, connector: LocalConnector(homes: fleet.homes, unreachable: []))
        #expect(outcome.exitCode == 0)

        let dropped = await RunDriver(
            playbook: Playbook(path: fleet.folder + "/p.yml", name: "p", hosts: "all",
                               stages: []),
            plans: plans, inventory: fleet.inventory, secrets: Secrets(values: [:]),
            options: { var o = RunOptions(); o.logsFolder = fleet.logsFolder; return o }(),
            sink: EventLog(), connector: DroppingConnector(homes: fleet.homes, drop: ["web-2"]),
            environment: [:]
        ).run()
        #expect(dropped.exitCode == 3)
        #expect(dropped.summaries[1].unreachable == 1)
        #expect(dropped.summaries[1].failure == "build: web-2 (127.0.0.1:22):"
            + " connection lost after 45s without response")
        #expect(dropped.record?.hosts.map(\.status) == [.finished, .unreachable])
    }

    @Test func eventsComeInTheOrderOutputsExpect() async throws {
        let fleet = try TestFleet(count: 1)
        defer { fleet.remove() }
        let upload = step(.template(localPath: "t", contents: Array("x".utf8), to: "~/f"))
        let sink = EventLog()
        _ = await fleet.run(
            fleet.plans([("s", { _ in [run("echo out"), upload] })]), sink: sink)
        let kinds = sink.all.map { event -> String in
            switch event.kind {
            case .runStarted: "runStarted"
            case .connecting: "connecting"
            case .connected: "connected"
            case .unreachable: "unreachable"
            case .stageStarted: "stageStarted"
            case .stepStarted: "stepStarted"
            case .output: "output"
            case .uploadProgress: "uploadProgress"
            case .stepFinished: "stepFinished"
            case .stageFinished: "stageFinished"
            case .hostFinished: "hostFinished"
            case .runFinished: "runFinished"
            }
        }
        #expect(kinds == [
            "runStarted", "connecting", "connected", "stageStarted", "stepStarted", "output",
            "stepFinished", "stepStarted", "uploadProgress", "stepFinished", "stageFinished",
            "hostFinished", "runFinished",
        ])
    }
}

@Suite struct ConnectionSettingsTests {
    @Test func inventorySettingsBecomeConnectOptions() throws {
        let host = InventoryHost(
            name: "web-1", address: "2001:db8::10", port: 2222, user: "deploy",
            identities: [.file("/keys/id"), .env("DEPLOY_KEY")], passphrase: .env("PASS"),
            knownHosts: [.file("/kh"), .env("KNOWN")], hostKeys: .acceptNew,
            fingerprint: "SHA256:abc", connectTimeout: .seconds(7))
        let options = try Engine.connectOptions(
            for: host,
            environment: ["DEPLOY_KEY": "KEYTEXT", "PASS": "pw", "KNOWN": "line",
                          "SSH_AUTH_SOCK": "/tmp/agent"])
        #expect(options.alias == "web-1")
        #expect(options.endpoint.description == "[2001:db8::10]:2222")
        #expect(options.user == "deploy")
        #expect(options.connectTimeout == .seconds(7))
        #expect(options.hostKeys.knownHostsFiles == ["/kh"])
        #expect(options.hostKeys.knownHostsText.map(\.source) == ["env:KNOWN"])
        #expect(options.hostKeys.fingerprint == "SHA256:abc")
        #expect(options.hostKeys.mode == .acceptNew)
        #expect(options.identities.count == 3)
        if case .text(let source, let key, let passphrase) = options.identities[1] {
            #expect(source == "env:DEPLOY_KEY" && key == "KEYTEXT" && passphrase == "pw")
        } else {
            Issue.record("the second identity is not the key text")
        }
        if case .agent = options.identities[2] {} else { Issue.record("no agent") }
    }

    @Test func aMissingKeyVariableIsABadInputBeforeConnecting() {
        let host = InventoryHost(
            name: "web-1", address: "10.0.0.1", user: "deploy", identities: [.env("NOPE")])
        #expect(throws: SSHError.self) {
            try Engine.connectOptions(for: host, environment: [:])
        }
        do {
            _ = try Engine.connectOptions(for: host, environment: [:])
        } catch {
            #expect(error.code == .keyInvalid)
            #expect(error.description == "web-1 (10.0.0.1:22): identity env:NOPE is not set;"
                + " export the key text in NOPE or name a key file")
            #expect(HostRun.exitClass(of: error) == .badInput)
        }
    }
}
