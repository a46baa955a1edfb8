// Output of any size and any bytes, and stdin, pass through untouched.

import Foundation
import Testing

@testable import FlotillaSSH

@Suite("Command output")
struct ExecOutputTests {
    @Test("50 MB on stdout and 50 MB on stderr at once arrive complete, byte for byte")
    func largeOutputOnBothStreams() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { session in
                let counter = StreamDigest()
                let dir = try await scratchFolder(session)
                let command = """
                    cd \(dir)
                    head -c 52428800 /dev/urandom > big.bin
                    cat big.bin & cat big.bin >&2; wait
                    sha256sum big.bin | cut -c1-64 >&2
                    """
                let started = ContinuousClock.now
                let result = try await session.exec(
                    command, timeout: .seconds(90), output: counter.handler)
                #expect(result.status == .exited(0))
                #expect(ContinuousClock.now - started < .seconds(60))
                let (stdout, stderr) = counter.finish()
                #expect(stdout.count == 52_428_800)
                // stderr is the file, then its hash on the last line.
                #expect(stderr.count == 52_428_800 + 65)
                let remoteHash = try await run(session, "sha256sum \(dir)/big.bin | cut -c1-64")
                    .stdout
                #expect(stdout.hash + "\n" == remoteHash)
                _ = try await run(session, "rm -rf \(dir)")
            }
        }
    }

    @Test("Bytes that are not UTF-8 and output without a final newline are kept exactly")
    func exactBytes() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { session in
                let output = OutputCollector()
                let command = #"printf 'caf\351\n\377\376 x'; printf 'err\200' >&2"#
                let result = try await session.exec(command, output: output.handler)
                #expect(result.status == .exited(0))
                #expect(output.stdout == [99, 97, 102, 0xE9, 10, 0xFF, 0xFE, 32, 120])
                #expect(output.stderr == [101, 114, 114, 0x80])

                // A character split across reads stays whole once the chunks are joined.
                let straddle = OutputCollector()
                _ = try await session.exec(
                    #"head -c 32767 /dev/zero | tr '\0' a; printf '\303\251'"#,
                    output: straddle.handler)
                #expect(straddle.stdout.count == 32_769)
                #expect(Array(straddle.stdout.suffix(2)) == [0xC3, 0xA9])
            }
        }
    }

    @Test("Output that looks like the wrapper's own lines is passed through")
    func markerLookalikes() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { session in
                let result = try await run(session, "echo flotilla-00:rc:0; printf 'x:pid:1\\n'")
                #expect(result.stdout == "flotilla-00:rc:0\nx:pid:1\n")
                #expect(result.status == .exited(0))
                #expect(try await run(session, "printf ''").stdout.isEmpty)
            }
        }
    }

    @Test("Stdin is written to the command and then closed")
    func stdinRoundTrip() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { session in
                var input = [UInt8]()
                for index in 0..<3_000_000 { input.append(UInt8(truncatingIfNeeded: index * 7)) }
                let output = OutputCollector()
                let result = try await session.exec(
                    "cat", stdin: input, timeout: .seconds(60), output: output.handler)
                #expect(result.status == .exited(0))
                #expect(output.stdout == input)
                #expect(try await run(session, "wc -c", stdin: Array("abc".utf8)).stdout
                    .trimmingCharacters(in: .whitespacesAndNewlines) == "3")
            }
        }
    }
}

/// Counts and hashes output as it arrives, without keeping 100 MB in memory.
final class StreamDigest: @unchecked Sendable {
    struct Summary {
        var count = 0
        var hash = ""
    }

    private let lock = NSLock()
    private let stdout = SHA256Digest()
    private var stdoutCount = 0
    private var stderrCount = 0

    var handler: @Sendable (OutputChunk) -> Void {
        { chunk in
            self.lock.lock()
            defer { self.lock.unlock() }
            switch chunk.stream {
            case .stdout:
                self.stdout.update(chunk.bytes)
                self.stdoutCount += chunk.bytes.count
            case .stderr:
                self.stderrCount += chunk.bytes.count
            }
        }
    }

    func finish() -> (Summary, Summary) {
        lock.lock()
        defer { lock.unlock() }
        let hash = stdout.finish()
        return (Summary(count: stdoutCount, hash: hash), Summary(count: stderrCount))
    }
}
