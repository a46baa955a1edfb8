import FlotillaConfig
import FlotillaSandbox
import Foundation
import Testing

@testable import FlotillaEngine

@Suite struct SecretTests {
    /// R21: a secret given to a step as environment appears in no event, log, record or
    /// remote process argument, neither plain nor base64.
    @Test func aSecretAppearsNowhere() async throws {
        let fleet = try TestFleet(count: 1)
        defer { fleet.remove() }
        let secret = "hunter2-Sekret!"
        let password = "sudo-Pass-9731"
        // The step holds on until the test has looked at the host's processes.
        let go = fleet.folder + "/go"
        var step = run("""
            echo "token is $DB_PASSWORD"
            printf '%s' "$DB_PASSWORD" | base64
            echo "$DB_PASSWORD" >&2
            while [ ! -e \(RemoteProgram.quote(go)) ]; do sleep 0.05; done
            exit 4
            """)
        step.env = ["DB_PASSWORD": secret]
        step.become = true
        var options = RunOptions()
        options.becomePassword = "sudo_password"
        let sink = EventLog()
        let task = Task {
            await fleet.run(
                fleet.plans([("s", { _ in [step] })]),
                secrets: ["db": secret, "sudo_password": password], options: options, sink: sink)
        }
        // While the step runs, no process on the host carries either value. The shells that
        // run it show only the fixed reader (`exec` replaced the first one at once).
        let reader = "bash -c IFS= read -r -d \"\" p;"
        var arguments = ""
        try await waitUntil(.seconds(60)) {
            arguments += LocalProcesses.commandLines().joined(separator: "\n")
            return arguments.contains(reader)
        }
        for _ in 0..<5 {
            arguments += LocalProcesses.commandLines().joined(separator: "\n")
            try await Task.sleep(for: .milliseconds(50))
        }
        FileManager.default.createFile(atPath: go, contents: nil)
        let outcome = await task.value

        let forms = [secret, password, Data(secret.utf8).base64EncodedString()]
        var everything = sink.text + arguments
        for file in try FileManager.default.subpathsOfDirectory(atPath: outcome.runFolder) {
            everything += read(outcome.runFolder + "/" + file) ?? ""
        }
        for form in forms {
            #expect(!everything.contains(form))
        }
        // The streams arrive separately: the stderr line may come first.
        let lines = sink.output(of: "web-1")
        #expect(lines.contains("token is ********"), "\(lines)")
        #expect(outcome.exitCode == 1)
        #expect(arguments.contains(reader))
    }

    /// R11: sudo that wants a password fails at once, saying so.
    @Test func sudoWantingAPasswordFailsAtOnceWithAClearMessage() async throws {
        let user = try unprivilegedUser()
        let fleet = try TestFleet(count: 1)
        defer { fleet.remove() }
        _ = chown(fleet.home("web-1"), user.uid, user.gid)
        _ = chmod(fleet.folder, 0o755)
        _ = chmod(fleet.folder + "/hosts", 0o755)
        var step = run("systemctl restart app")
        step.become = true
        step.timeout = .seconds(300)
        let sink = EventLog()
        let clock = ContinuousClock()
        let start = clock.now
        let outcome = await fleet.run(
            fleet.plans([("s", { _ in [step] })]), sink: sink,
            connector: LocalConnector(homes: fleet.homes, user: user.name))
        // Far below the step's timeout: sudo -n fails instead of waiting for a prompt.
        // (Under 5s on an idle machine; local shells start slowly on a busy one.)
        #expect(clock.now - start < .seconds(60))
        #expect(outcome.exitCode == 1)
        #expect(sink.finishedSteps.first?.message == "sudo on web-1 needs a password: set"
            + " become_password in the playbook, or allow NOPASSWD for these commands")
    }

    /// A Unix user without sudo rights, made once.
    private func unprivilegedUser() throws -> (name: String, uid: uid_t, gid: gid_t) {
        let name = "flotilla-nosudo"
        if getpwnam(name) == nil {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/useradd")
            process.arguments = ["--system", "--no-create-home", "--shell", "/bin/bash", name]
            try process.run()
            process.waitUntilExit()
        }
        let entry = try #require(getpwnam(name))
        return (name, entry.pointee.pw_uid, entry.pointee.pw_gid)
    }
}
