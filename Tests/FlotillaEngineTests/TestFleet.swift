// What engine tests share: a fleet of local hosts with their own homes, plans built
// from steps, and a sink that keeps every event.

import FlotillaConfig
import FlotillaSSH
import Foundation
import Synchronization

@testable import FlotillaEngine

final class EventLog: RunEventSink {
    private let events = Mutex<[RunEvent]>([])

    func receive(_ event: RunEvent) {
        events.withLock { $0.append(event) }
    }

    var all: [RunEvent] { events.withLock { $0 } }

    /// Every text an output could show: messages, output lines, names.
    var text: String {
        all.map { event -> String in
            switch event.kind {
            case .output(_, let line, _): return String(decoding: line, as: UTF8.self)
            case .stepFinished(let stage, let step, let status, let message, _):
                return "\(stage) \(step) \(status) \(message ?? "")"
            case .unreachable(let message): return message
            case .hostFinished(let summary): return "\(summary)"
            case .runFinished(_, let summaries, _): return "\(summaries)"
            case .stepStarted(let stage, let step): return "\(stage) \(step)"
            default: return ""
            }
        }.joined(separator: "\n")
    }

    /// `(host, step, status, message)` of every finished step.
    var finishedSteps: [(host: String, step: String, status: StepStatus, message: String?)] {
        all.compactMap { event in
            if case .stepFinished(_, let step, let status, let message, _) = event.kind {
                return (event.host ?? "", step, status, message)
            }
            return nil
        }
    }

    func output(of host: String) -> [String] {
        all.compactMap { event in
            guard event.host == host, case .output(_, let line, _) = event.kind else { return nil }
            return String(decoding: line, as: UTF8.self)
        }
    }
}

struct TestFleet {
    let folder: String
    let hosts: [InventoryHost]
    let homes: [String: String]

    init(count: Int, prefix: String = "web-", path: [String] = []) throws {
        folder = try Self.makeTemporaryFolder()
        var hosts: [InventoryHost] = []
        var homes: [String: String] = [:]
        for index in 1...count {
            let name = "\(prefix)\(index)"
            let home = folder + "/hosts/" + name
            try FileManager.default.createDirectory(
                atPath: home, withIntermediateDirectories: true)
            homes[name] = home
            hosts.append(InventoryHost(
                name: name, address: "127.0.0.1", port: 2200 + index, user: "root", path: path))
        }
        self.hosts = hosts
        self.homes = homes
    }

    static func makeTemporaryFolder() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/flotilla-engine-XXXXXX").utf8CString)
        guard let result = mkdtemp(&template) else {
            throw CocoaError(.fileWriteUnknown)
        }
        return String(cString: result)
    }

    var logsFolder: String { folder + "/runs" }
    var inventory: Inventory { Inventory(hosts: hosts, groups: [:], files: [folder + "/inv.yml"]) }

    func home(_ host: String) -> String { homes[host]! }

    func remove() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// The same stages for every host; `steps(host)` may vary a step per host.
    func plans(
        _ stages: [(name: String, steps: (String) -> [ResolvedStep])],
        handlers: (String) -> [String: ResolvedStep] = { _ in [:] }
    ) -> [HostPlan] {
        hosts.map { host in
            HostPlan(
                host: host,
                stages: stages.enumerated().map { index, stage in
                    var steps = stage.steps(host.name)
                    for i in steps.indices where steps[i].id.isEmpty {
                        steps[i].id = "\(index)/\(i)"
                    }
                    return ResolvedStage(name: stage.name, parallel: nil, steps: steps)
                },
                handlers: handlers(host.name))
        }
    }

    func run(
        _ plans: [HostPlan], playbook: Playbook? = nil, secrets: [String: String] = [:],
        options: RunOptions? = nil, sink: EventLog = EventLog(), connector: LocalConnector? = nil
    ) async -> RunOutcome {
        var options = options ?? RunOptions()
        options.logsFolder = logsFolder
        let playbook = playbook ?? Playbook(
            path: folder + "/playbook.yml", name: "test", hosts: "all", stages: [])
        return await RunDriver(
            playbook: playbook, plans: plans, inventory: inventory,
            secrets: Secrets(values: secrets), options: options, sink: sink,
            connector: connector ?? LocalConnector(homes: homes), environment: [:]
        ).run()
    }
}

/// A step with an empty id (filled in by `TestFleet.plans`).
func step(_ kind: ResolvedStep.Kind, name: String? = nil) -> ResolvedStep {
    ResolvedStep(id: "", displayName: name ?? "\(kind)", kind: kind)
}

func run(_ command: String, name: String? = nil) -> ResolvedStep {
    step(.run(command), name: name ?? "run: \(command)")
}

func read(_ path: String) -> String? {
    FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
}

/// A local program that `runLocally` ran ended with a non-zero status.
struct LocalCommandFailed: Error, CustomStringConvertible {
    var command: [String]
    var status: Int32
    var description: String { "\(command.joined(separator: " ")) exited with \(status)" }
}

/// Runs a local program (useradd, mount) to its end; a non-zero status throws.
func runLocally(_ path: String, _ arguments: [String]) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw LocalCommandFailed(command: [path] + arguments, status: process.terminationStatus)
    }
}

/// Runs blocking work (starting and stopping servers, waiting for files) on a thread of its
/// own: Swift's cooperative pool has one thread per core, and blocking it stalls every
/// session of every test running at the same time.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    let result = await withCheckedContinuation {
        (continuation: CheckedContinuation<Result<T, any Error>, Never>) in
        Thread.detachNewThread {
            continuation.resume(returning: Result { try body() })
        }
    }
    return try result.get()
}

/// `count` random bytes, for files whose every byte is checked.
func randomBytes(_ count: Int) -> Data {
    FileHandle(forReadingAtPath: "/dev/urandom")!.readData(ofLength: count)
}
