import FlotillaEngine
import Foundation
import Testing

@testable import flotilla

@Suite struct JSONOutputTests {
    @Test func printsTheRunRecordAndNothingElse() async throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("flotilla-json-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let record = #"{"hosts":[{"name":"web-1","status":"ok"}],"exitCode":0}"#
        try Data(record.utf8).write(to: folder.appendingPathComponent("run.json"))

        let out = TextOutput()
        let errors = TextOutput()
        let output = JSONOutput(out: out, errors: errors)
        var run = SyntheticRun(hosts: ["web-1"])
        run.runFolder = folder.path
        run.allEvents().forEach(output.receive)

        #expect(out.text == record + "\n")
        #expect(errors.text.isEmpty)
    }
}
