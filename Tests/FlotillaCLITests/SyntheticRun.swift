import FlotillaEngine
import Foundation

/// Events shaped like a real run's, for feeding outputs without hosts: each host runs a
/// `deploy` stage of two steps; hosts in `failing` fail the second one.
struct SyntheticRun {
    var hosts: [String]
    var failing: Set<String> = []
    var secrets: [String] = []
    var runFolder = "/tmp/flotilla-synthetic/run-1"

    func start() -> RunEvent {
        RunEvent(host: nil, kind: .runStarted(
            runID: "run-1", playbook: "deploy.yml", hosts: hosts, stages: ["deploy"],
            runFolder: runFolder, secrets: secrets))
    }

    /// Every event of one host's part of the stage, output included.
    func hostEvents(_ host: String) -> [RunEvent] {
        var events: [RunEvent] = [
            RunEvent(host: host, kind: .connecting),
            RunEvent(host: host, kind: .connected(
                hostKeyFingerprint: "SHA256:abc", duration: .milliseconds(120))),
            RunEvent(host: host, kind: .stepStarted(stage: "deploy", step: "upload")),
            RunEvent(host: host, kind: .stepFinished(
                stage: "deploy", step: "upload", status: .changed, message: nil,
                duration: .milliseconds(400))),
            RunEvent(host: host, kind: .stepStarted(stage: "deploy", step: "migrate")),
            RunEvent(host: host, kind: .output(
                stream: .stdout, line: Array("\(host) applying 3 migrations".utf8),
                partial: false)),
            RunEvent(host: host, kind: .output(
                stream: .stderr, line: Array("\(host) warning: slow".utf8), partial: true)),
        ]
        let failed = failing.contains(host)
        events.append(RunEvent(host: host, kind: .stepFinished(
            stage: "deploy", step: "migrate", status: failed ? .failed : .ok,
            message: failed ? "exited with status 2" : nil, duration: .seconds(2))))
        events.append(RunEvent(host: host, kind: .hostFinished(summary(host))))
        return events
    }

    func summary(_ host: String) -> HostSummary {
        let failed = failing.contains(host)
        return HostSummary(
            host: host, address: "127.0.0.1:22", ok: failed ? 0 : 1, changed: 1,
            failed: failed ? 1 : 0,
            failure: failed ? "deploy/migrate: exited with status 2" : nil)
    }

    func finish() -> RunEvent {
        RunEvent(host: nil, kind: .runFinished(
            exitCode: failing.isEmpty ? 0 : 1, summaries: hosts.map(summary),
            runFolder: runFolder))
    }

    /// The whole run, hosts one after another.
    func allEvents() -> [RunEvent] {
        [start(), RunEvent(host: nil, kind: .stageStarted(stage: "deploy", hosts: hosts))]
            + hosts.flatMap(hostEvents)
            + [RunEvent(host: nil, kind: .stageFinished(stage: "deploy")), finish()]
    }
}
