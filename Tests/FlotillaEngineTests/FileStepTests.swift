import FlotillaConfig
import Foundation
import Testing

@testable import FlotillaEngine

@Suite struct FileStepTests {
    /// A playbook with every file kind, writing under each host's home.
    private func fileSteps(_ fleet: TestFleet) throws -> [ResolvedStep] {
        let local = fleet.folder + "/files"
        try FileManager.default.createDirectory(
            atPath: local + "/site/css", withIntermediateDirectories: true)
        try "#!/bin/sh\necho deploy\n".write(
            toFile: local + "/deploy.sh", atomically: true, encoding: .utf8)
        try "body {}\n".write(toFile: local + "/site/css/main.css", atomically: true,
                              encoding: .utf8)
        try "<h1>hi</h1>\n".write(toFile: local + "/site/index.html", atomically: true,
                                  encoding: .utf8)
        var upload = step(.upload(localPath: local + "/deploy.sh", to: "~/bin/deploy.sh"),
                          name: "upload deploy.sh")
        upload.mode = 0o755
        upload.parents = true
        let folder = step(.upload(localPath: local + "/site", to: "~/site"), name: "site")
        let template = step(
            .template(localPath: "t", contents: Array("port = 8000\n".utf8), to: "~/app.conf"),
            name: "template")
        var secret = step(.secret(contents: Array("TOKEN=s3cr3t-value\n".utf8), to: "~/.env"),
                          name: "secret")
        secret.sensitive = true
        return [upload, folder, template, secret]
    }

    @Test func filesAreWrittenWithTheirModesAndASecondRunChangesNothing() async throws {
        let fleet = try TestFleet(count: 2)
        defer { fleet.remove() }
        let steps = try fileSteps(fleet)
        let plans = fleet.plans([("files", { _ in steps })])

        let first = await fleet.run(plans)
        #expect(first.exitCode == 0)
        #expect(first.summaries.map(\.changed) == [4, 4])
        let home = fleet.home("web-2")
        #expect(read(home + "/bin/deploy.sh") == "#!/bin/sh\necho deploy\n")
        #expect(read(home + "/site/css/main.css") == "body {}\n")
        #expect(read(home + "/app.conf") == "port = 8000\n")
        #expect(try mode(home + "/bin/deploy.sh") == 0o755)
        #expect(try mode(home + "/app.conf") == 0o644)
        #expect(try mode(home + "/.env") == 0o600)
        let written = try #require(first.record?.hosts[0].stages[0].steps[2].files.first)
        #expect(written.sha256 == Checksum.sha256Hex(Array("port = 8000\n".utf8)))

        let second = await fleet.run(plans)
        #expect(second.exitCode == 0)
        #expect(second.summaries.map(\.ok) == [4, 4])
        #expect(second.summaries.map(\.changed) == [0, 0])
    }

    @Test func checkModeLeavesEveryFileUntouched() async throws {
        let fleet = try TestFleet(count: 2)
        defer { fleet.remove() }
        let home = fleet.home("web-1")
        try "port = 7000\n".write(toFile: home + "/app.conf", atomically: true, encoding: .utf8)
        let before = try snapshot(fleet.folder + "/hosts")
        var steps = try fileSteps(fleet)
        steps.append(run("touch \"$HOME/ran\""))
        var options = RunOptions()
        options.check = true
        let outcome = await fleet.run(fleet.plans([("files", { _ in steps })]), options: options)

        #expect(outcome.exitCode == 0)
        #expect(try snapshot(fleet.folder + "/hosts") == before)
        #expect(outcome.summaries.map(\.changed) == [4, 4])
        let last = try #require(outcome.record?.hosts[0].stages[0].steps[4])
        #expect(last.status == .skipped && last.message == "would run (check mode)")
    }

    @Test func diffShowsTheTextChangeButNeverASecret() async throws {
        let fleet = try TestFleet(count: 1)
        defer { fleet.remove() }
        let home = fleet.home("web-1")
        try "port = 7000\nworkers = 2\n".write(
            toFile: home + "/app.conf", atomically: true, encoding: .utf8)
        let steps = try fileSteps(fleet)
        var options = RunOptions()
        options.check = true
        options.diff = true
        let sink = EventLog()
        _ = await fleet.run(
            fleet.plans([("files", { _ in Array(steps[2...3]) })]), options: options, sink: sink)
        #expect(sink.output(of: "web-1") == [
            "--- \(home)/app.conf", "+++ \(home)/app.conf (new)", "@@ -1,2 +1,1 @@",
            "-port = 7000", "-workers = 2", "+port = 8000",
        ])
        #expect(!sink.text.contains("s3cr3t"))
    }

    @Test func anOwnerIsSetThroughAPrivateCopyAndAMatchingOwnerIsOk() async throws {
        let fleet = try TestFleet(count: 1)
        defer { fleet.remove() }
        var owned = step(.template(localPath: "t", contents: Array("x\n".utf8), to: "~/owned"))
        owned.owner = "nobody"
        owned.mode = 0o640
        let plans = fleet.plans([("files", { _ in [owned] })])
        let first = await fleet.run(plans)
        #expect(first.summaries[0].changed == 1)
        let attributes = try FileManager.default.attributesOfItem(
            atPath: fleet.home("web-1") + "/owned")
        #expect(attributes[.ownerAccountName] as? String == "nobody")
        #expect(try mode(fleet.home("web-1") + "/owned") == 0o640)
        let second = await fleet.run(plans)
        #expect(second.summaries[0].ok == 1)
    }

    @Test func aMissingParentFolderIsAnErrorUnlessParentsIsSet() async throws {
        let fleet = try TestFleet(count: 1)
        defer { fleet.remove() }
        let file = step(.template(localPath: "t", contents: Array("x".utf8), to: "~/a/b/c"))
        let outcome = await fleet.run(fleet.plans([("files", { _ in [file] })]))
        #expect(outcome.exitCode == 1)
        #expect(!FileManager.default.fileExists(atPath: fleet.home("web-1") + "/a"))
    }

    @Test func aTargetThatIsAFolderOrALinkIsRefusedAndLeftAsItIs() async throws {
        let fleet = try TestFleet(count: 1)
        defer { fleet.remove() }
        let home = fleet.home("web-1")
        try FileManager.default.createDirectory(
            atPath: home + "/conf", withIntermediateDirectories: true)
        try "real\n".write(toFile: home + "/real.txt", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(
            atPath: home + "/link.txt", withDestinationPath: home + "/real.txt")
        for target in ["~/conf", "~/link.txt"] {
            let file = step(.template(localPath: "t", contents: Array("x".utf8), to: target))
            let outcome = await fleet.run(fleet.plans([("files", { _ in [file] })]))
            #expect(outcome.exitCode == 1)
            let path = home + target.dropFirst(1)
            let failure = outcome.summaries[0].failure ?? ""
            #expect(failure.contains("\(path) on "), "\(failure)")
            #expect(failure.contains(" exists and is not a file"), "\(failure)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: home + "/conf").isEmpty)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: home + "/link.txt")
            == home + "/real.txt")
        #expect(read(home + "/real.txt") == "real\n")
    }

    @Test func aLocalFileIsReadOnceSoEveryHostGetsTheSameBytes() throws {
        let folder = try TestFleet.makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/app.tar"
        try Data("release 1".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        let files = LocalFiles()
        let first = try files.read(path)
        try Data("release 2, written during the run".utf8).write(to: URL(fileURLWithPath: path))
        let second = try files.read(path)
        #expect(first.contents == Array("release 1".utf8))
        #expect(second.contents == first.contents && second.mode == 0o640)
        #expect(throws: (any Error).self) { try files.read(folder + "/missing.tar") }
    }

    @Test func fetchCopiesARemoteFileIntoTheRunFolder() async throws {
        let fleet = try TestFleet(count: 1)
        defer { fleet.remove() }
        try "remote data\n".write(
            toFile: fleet.home("web-1") + "/report.txt", atomically: true, encoding: .utf8)
        let fetch = step(.fetch(from: "~/report.txt", to: "../../report.txt"))
        let outcome = await fleet.run(fleet.plans([("files", { _ in [fetch] })]))
        #expect(outcome.exitCode == 0)
        #expect(read(outcome.runFolder + "/fetched/web-1/report.txt") == "remote data\n")
        // It may hold secrets: readable by the user running Flotilla only.
        let attributes = try FileManager.default.attributesOfItem(
            atPath: outcome.runFolder + "/fetched/web-1/report.txt")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
    }

    private func mode(_ path: String) throws -> UInt32 {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return ((attributes[.posixPermissions] as? NSNumber)?.uint32Value ?? 0) & 0o7777
    }

    /// Every file under `folder` with its content and mode (the run's own `.flotilla` aside).
    private func snapshot(_ folder: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for path in try FileManager.default.subpathsOfDirectory(atPath: folder)
        where !path.contains(".flotilla") {
            let full = folder + "/" + path
            result[path] = (read(full) ?? "<dir>") + " \(try mode(full))"
        }
        return result
    }
}
