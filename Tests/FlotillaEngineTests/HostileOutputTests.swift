// Output no one would print on purpose: a line of tens of megabytes without a newline, NUL
// bytes and bytes that are not UTF-8, on both streams. The run finishes, the step succeeds,
// memory stays bounded, and the log keeps every byte as it came.

import FlotillaConfig
import FlotillaSandbox
import Foundation
import Synchronization
import Testing

@testable import FlotillaEngine

/// Keeps what outputs are told about output lines, without keeping huge lines, so the
/// test's own memory does not hide the engine's.
final class OutputMeasure: RunEventSink {
    struct Line: Sendable {
        var stream: RunEvent.OutputStream
        var count: Int
        var partial: Bool
        /// The line itself when it is short.
        var bytes: [UInt8]?
    }

    private let state = Mutex<(lines: [Line], finished: [StepStatus])>(([], []))

    func receive(_ event: RunEvent) {
        state.withLock { state in
            switch event.kind {
            case .output(let stream, let line, let partial):
                state.lines.append(Line(
                    stream: stream, count: line.count, partial: partial,
                    bytes: line.count <= 4096 ? line : nil))
            case .stepFinished(_, _, let status, _, _):
                state.finished.append(status)
            default:
                break
            }
        }
    }

    var lines: [Line] { state.withLock { $0.lines } }
    var finished: [StepStatus] { state.withLock { $0.finished } }
}

/// The output lines of one stream in a host log: the bytes after `out| ` or `err| `, and
/// whether the line ended with the `[no newline]` mark (which is taken off).
func loggedOutput(_ log: Data, stream: String) -> [(bytes: [UInt8], partial: Bool)] {
    let label = Array("\(stream)| ".utf8)
    let mark = Array(" [no newline]".utf8)
    return log.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        .compactMap { line -> (bytes: [UInt8], partial: Bool)? in
            // A time stamp, a space, then the label.
            guard let space = line.firstIndex(of: 32),
                line[(space + 1)...].starts(with: label)
            else { return nil }
            var bytes = Array(line[(space + 1 + label.count)...])
            let partial = bytes.count >= mark.count && bytes.suffix(mark.count).elementsEqual(mark)
            if partial { bytes.removeLast(mark.count) }
            return (bytes, partial)
        }
}

@Suite(.serialized) struct HostileOutputTests {
    @Test func aThirtyMegabyteLineWithoutNewlineFromAStepOrAGuardKeepsMemoryBounded() async throws {
        try await SandboxRun.with(prefix: "ho-", count: 1) { sandbox in
            let size = 30 * 1024 * 1024
            let measure = OutputMeasure()
            let outcome = try await sandbox.run("""
                name: huge line
                hosts: all
                stages:
                  - name: print
                    steps:
                      - run: head -c \(size) /dev/zero | tr '\\0' x
                      - run: echo guarded > ~/guarded
                        unless: head -c \(size) /dev/zero | tr '\\0' x; false
                """, sink: measure)
            #expect(outcome.exitCode == 0)
            #expect(measure.finished == [.changed, .changed])
            #expect(read(sandbox.home("ho-1") + "/guarded") == "guarded\n")

            // (That memory never held the line is measured on the command line's process, in
            // RunEndToEndTests: this process runs other tests at the same time.)

            // Outputs got it in 64 KiB pieces, each marked as not ending its line.
            let piece = LineSplitter.defaultLimit
            #expect(measure.lines.count == size / piece)
            #expect(measure.lines.allSatisfy { $0.count == piece && $0.partial })

            // The log has every byte, and run.json none: it records results, not output.
            let log = try Data(contentsOf: URL(fileURLWithPath: outcome.runFolder + "/ho-1.log"))
            let logged = loggedOutput(log, stream: "out")
            #expect(logged.count == size / piece && logged.allSatisfy(\.partial))
            #expect(logged.reduce(0) { $0 + $1.bytes.count } == size)
            #expect(logged.allSatisfy { $0.bytes.allSatisfy { $0 == UInt8(ascii: "x") } })
            let record = try Data(contentsOf: URL(fileURLWithPath: outcome.runFolder + "/run.json"))
            #expect(record.count < 16 * 1024)
            let step = try RunRecord.decode(record).hosts[0].stages[0].steps[0]
            #expect(step.status == .changed && step.exitStatus == "exited(0)")
        }
    }

    @Test func nulBytesAndInvalidUTF8OnBothStreamsAreKeptAsTheyCame() async throws {
        try await SandboxRun.with(prefix: "hp-", count: 1) { sandbox in
            let measure = OutputMeasure()
            // printf's octal escapes: NUL, FF FE (never UTF-8), C0 80 (an overlong NUL),
            // E9 (a Latin-1 é), C3 A9 (a UTF-8 é).
            let outcome = try await sandbox.run(#"""
                name: bytes
                hosts: all
                stages:
                  - name: print
                    steps:
                      - run: |
                          printf 'text\000with NUL\377\376 bad \300\200 overlong\n'
                          printf 'err \000 \351t\303\251\n' >&2
                          printf 'last\377'
                      - run: printf 'bad \377 \000 end\n' >&2; exit 3
                        ignore_errors: true
                """#, sink: measure)
            #expect(outcome.exitCode == 0)
            #expect(measure.finished == [.changed, .failed])

            let stdout: [[UInt8]] = [
                Array("text".utf8) + [0] + Array("with NUL".utf8) + [0xFF, 0xFE]
                    + Array(" bad ".utf8) + [0xC0, 0x80] + Array(" overlong".utf8),
                Array("last".utf8) + [0xFF],
            ]
            let stderr: [[UInt8]] = [
                Array("err ".utf8) + [0, 32, 0xE9, 0x74, 0xC3, 0xA9],
                Array("bad ".utf8) + [0xFF, 32, 0] + Array(" end".utf8),
            ]
            let events = measure.lines
            #expect(events.filter { $0.stream == .stdout }.compactMap(\.bytes) == stdout)
            #expect(events.filter { $0.stream == .stdout }.map(\.partial) == [false, true])
            #expect(events.filter { $0.stream == .stderr }.compactMap(\.bytes) == stderr)

            let log = try Data(contentsOf: URL(fileURLWithPath: outcome.runFolder + "/hp-1.log"))
            let out = loggedOutput(log, stream: "out")
            #expect(out.map(\.bytes) == stdout && out.map(\.partial) == [false, true])
            #expect(loggedOutput(log, stream: "err").map(\.bytes) == stderr)

            // The record stays valid JSON; the failure quotes the last stderr line, with what
            // is not UTF-8 replaced and the NUL escaped.
            let record = try RunRecord.decode(
                Data(contentsOf: URL(fileURLWithPath: outcome.runFolder + "/run.json")))
            let steps = record.hosts[0].stages[0].steps
            #expect(steps.map(\.status) == [.changed, .failed])
            #expect(steps[1].message == "ignored: exited with status 3: bad \u{FFFD} \u{0} end")
        }
    }
}
