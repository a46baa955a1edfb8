// R15: a script saved on Windows has CRLF line endings, and bash on the host chokes on the
// carriage returns (`/bin/bash^M: bad interpreter`). Flotilla refuses such a file before any
// host is contacted, or converts it when the step says `line_endings: normalize`.

import FlotillaConfig
import FlotillaSandbox
import Foundation
import Testing

@testable import FlotillaEngine

@Suite(.serialized) struct ScriptLineEndingsTests {
    /// A script that records its argument and a copy of itself, as uploaded, in the home.
    static let script = [
        "#!/bin/bash", "set -eu", "cp \"$0\" ~/uploaded.sh", "printf '%s\\n' \"$1\" > ~/migrated",
        "echo migrated to \"$1\"",
    ]

    static func playbook(lineEndings: String?) -> String {
        """
        name: migrate
        hosts: all
        stages:
          - name: database
            steps:
              - script: files/migrate.sh
                args: v2
        """ + (lineEndings.map { "\n        line_endings: \($0)" } ?? "") + "\n"
    }

    func writeScript(_ sandbox: SandboxRun, lineBreak: String) throws {
        let folder = sandbox.fleet.folder + "/files"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try (Self.script.joined(separator: lineBreak) + lineBreak)
            .write(toFile: folder + "/migrate.sh", atomically: true, encoding: .utf8)
    }

    @Test func aCRLFScriptIsRefusedAtLoadNamingFileAndLineAndNoHostIsContacted() async throws {
        try await SandboxRun.with(prefix: "r15-", count: 2) { sandbox in
            try writeScript(sandbox, lineBreak: "\r\n")
            let logStarts = sandbox.fleet.hosts.map { ($0.logFile, logLength($0.logFile)) }

            let error = try #require(throws: DiagnosticError.self) {
                _ = try sandbox.start(Self.playbook(lineEndings: nil))
            }
            #expect(error.diagnostics.map { $0.rendered() } == ["""
                \(sandbox.fleet.folder)/play.yml:6:17: error: files/migrate.sh has CRLF line \
                endings (first at line 1); convert it to LF or set line_endings: normalize
                      - script: files/migrate.sh
                                ^
                """])

            // Nothing connected to any server, and nothing reached any home.
            for (file, start) in logStarts {
                let log = FileManager.default.contents(atPath: file).map {
                    String(decoding: $0.dropFirst(start), as: UTF8.self)
                }
                #expect(log?.contains("Connection from") == false, "\(file): \(log ?? "")")
            }
            for name in sandbox.names {
                #expect(!FileManager.default.fileExists(atPath: sandbox.home(name) + "/.flotilla"))
                #expect(read(sandbox.home(name) + "/migrated") == nil)
            }
        }
    }

    @Test func withNormalizeTheScriptIsUploadedWithLFRunsAndTheLogSaysSo() async throws {
        try await SandboxRun.with(prefix: "r16-", count: 2) { sandbox in
            try writeScript(sandbox, lineBreak: "\r\n")
            let sink = EventLog()
            let outcome = try await sandbox.run(
                Self.playbook(lineEndings: "normalize"), sink: sink)
            #expect(outcome.exitCode == 0)
            // What the refusal above checks is there when a run does connect.
            for host in sandbox.fleet.hosts {
                #expect(read(host.logFile)?.contains("Connection from") == true)
            }
            for name in sandbox.names {
                let home = sandbox.home(name)
                #expect(read(home + "/uploaded.sh")
                    == Self.script.joined(separator: "\n") + "\n")
                #expect(read(home + "/migrated") == "v2\n")
                #expect(sink.output(of: name) == ["migrated to v2"])
                let log = try #require(read(outcome.runFolder + "/\(name).log"))
                #expect(log.contains(
                    " converted the CRLF line endings of \(sandbox.fleet.folder)/files/migrate.sh "
                        + "to LF\n"))
            }
        }
    }

    @Test func anLFScriptRunsWithoutAConversionNoteAndACRLFPlaybookRunsItsBlocks() async throws {
        try await SandboxRun.with(prefix: "r17-", count: 1) { sandbox in
            try writeScript(sandbox, lineBreak: "\n")
            // The playbook itself saved on Windows: its run block reaches bash with LF only.
            let yaml = (Self.playbook(lineEndings: "normalize") + """
                      - run: |
                          echo one > ~/block
                          echo two >> ~/block
                """ + "\n").replacingOccurrences(of: "\n", with: "\r\n")
            let outcome = try await sandbox.run(yaml)
            #expect(outcome.exitCode == 0)
            let home = sandbox.home("r17-1")
            #expect(read(home + "/migrated") == "v2\n")
            #expect(read(home + "/block") == "one\ntwo\n")
            let log = try #require(read(outcome.runFolder + "/r17-1.log"))
            #expect(!log.contains("converted the CRLF line endings"))
        }
    }

    private func logLength(_ file: String) -> Int {
        FileManager.default.contents(atPath: file)?.count ?? 0
    }
}
