import FlotillaConfig
import FlotillaSandbox
import Foundation
import Testing

@testable import FlotillaEngine

/// sudo that asks for a password, answered from a secret over stdin (R11).
@Suite(.serialized) struct BecomePasswordTests {
    static let user = "flotilla-pwsudo"
    static let password = "Pw-Test-5521-secret"

    @Test func thePasswordFromASecretLetsSudoRunAndAppearsNowhere() async throws {
        let (outcome, sink, written) = try await runAsUser(password: Self.password)
        #expect(outcome.exitCode == 0)
        #expect(sink.output(of: "web-1") == ["uid 0"])
        #expect(!(sink.text + written).contains(Self.password))
    }

    @Test func aWrongPasswordIsReportedAsRefused() async throws {
        let (outcome, sink, _) = try await runAsUser(password: "not-the-password")
        #expect(outcome.exitCode == 1)
        #expect(sink.finishedSteps.first?.message
            == "sudo on web-1 refused the become password (secret sudo)")
    }

    private func runAsUser(password: String) async throws -> (RunOutcome, EventLog, String) {
        try Self.makeUser()
        let fleet = try TestFleet(count: 1)
        defer { fleet.remove() }
        let entry = try #require(getpwnam(Self.user))
        _ = chown(fleet.home("web-1"), entry.pointee.pw_uid, entry.pointee.pw_gid)
        _ = chmod(fleet.folder, 0o755)
        _ = chmod(fleet.folder + "/hosts", 0o755)
        var step = FlotillaEngineTests.run("echo \"uid $(id -u)\"; sleep 1")
        step.become = true
        step.timeout = .seconds(60)
        var options = RunOptions()
        options.becomePassword = "sudo"
        let sink = EventLog()
        let task = Task {
            await fleet.run(
                fleet.plans([("s", { _ in [step] })]), secrets: ["sudo": password],
                options: options, sink: sink,
                connector: LocalConnector(homes: fleet.homes, user: Self.user))
        }
        // While the step runs, and afterwards in the run folder: every place it could show.
        var written = ""
        for _ in 0..<10 {
            written += LocalProcesses.commandLines().joined(separator: "\n")
            try await Task.sleep(for: .milliseconds(100))
        }
        let outcome = await task.value
        for file in try FileManager.default.subpathsOfDirectory(atPath: outcome.runFolder) {
            written += read(outcome.runFolder + "/" + file) ?? ""
        }
        return (outcome, sink, written)
    }

    /// A user whose sudo rights need its password.
    private static func makeUser() throws {
        if getpwnam(user) == nil {
            try runLocally("/usr/sbin/useradd", ["--system", "--shell", "/bin/bash", user])
        }
        try runLocally("/bin/sh", ["-c", "echo '\(user):\(password)' | /usr/sbin/chpasswd"])
        let rule = "\(user) ALL=(ALL) ALL\n"
        let file = "/etc/sudoers.d/\(user)"
        if read(file) != rule {
            let temporary = "/etc/sudoers.d/.\(user).new"
            try rule.write(toFile: temporary, atomically: true, encoding: .utf8)
            _ = chmod(temporary, 0o440)
            try runLocally("/usr/sbin/visudo", ["-cf", temporary])
            _ = rename(temporary, file)
        }
    }
}
