import FlotillaSandbox
import Foundation
import Testing

@Suite struct SandboxCommandTests {
    /// The servers outlive `up`; later processes see and stop them.
    @Test func upStatusAndDownWorkFromSeparateProcesses() async throws {
        let folder = try ScratchFolder()
        defer {
            _ = try? SandboxFleet.down(folder: folder.path + "/.flotilla/sandbox")
            folder.remove()
        }

        let up = try await FlotillaProcess.run(["sandbox", "up", "2"], in: folder.url)
        #expect(up.status == 0, "\(up.stderr)")
        #expect(up.stdout.hasPrefix("sandbox up: 2 servers\n"))
        #expect(FileManager.default.fileExists(atPath: folder.path + "/inventory/sandbox.yml"))

        let status = try await FlotillaProcess.run(["sandbox", "status"], in: folder.url)
        #expect(status.status == 0)
        #expect(status.stdout.split(separator: "\n").filter { $0.hasSuffix("  running") }
            .count == 2)

        let ping = try await FlotillaProcess.run(
            ["ping", "-i", "inventory/sandbox.yml"], in: folder.url)
        #expect(ping.status == 0, "\(ping.stdout)")

        let again = try await FlotillaProcess.run(["sandbox", "up", "2"], in: folder.url)
        #expect(again.status == 0)
        #expect(again.stdout.hasPrefix("sandbox already up: 2 servers\n"))
        let more = try await FlotillaProcess.run(["sandbox", "up", "4"], in: folder.url)
        #expect(more.status == 1)
        #expect(more.stderr.contains("asked for 4 servers but 2 are running"))

        let down = try await FlotillaProcess.run(["sandbox", "down"], in: folder.url)
        #expect(down.status == 0)
        #expect(down.stdout == "sandbox down: stopped sandbox-1, sandbox-2\n")
        let after = try await FlotillaProcess.run(["sandbox", "status"], in: folder.url)
        #expect(after.status != 0)
    }
}
