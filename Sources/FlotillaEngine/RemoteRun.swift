// Runs one `RemoteProgram` over a connection: output is cut into lines, marker lines are
// taken out and read, the rest goes to the caller line by line.

import FlotillaSSH
import FlotillaSupport
import FoundationEssentials
import Synchronization

/// What a remote program came to, read from its markers where the channel says too little.
struct RemoteRunResult: Sendable {
    var status: ExitStatus
    /// The remote watchdog ended the step.
    var timedOut = false
    /// `set -e` stopped a `run` script: the line (1-based), its exit code, the PATH it had.
    var failedLine: (line: Int, code: Int32, path: String)?
    /// `cd` into the step's folder failed.
    var cwdFailed = false
    /// The process group of the step, while it ran.
    var processGroup: Int?
    /// Captured stdout when the caller asked for it.
    var stdout: [UInt8] = []
    /// The stderr lines (markers removed), kept for classifying failures.
    var stderrTail: [String] = []
}

/// One line of output with its stream, after markers are removed; `partial` when no newline
/// ended it (a last line without one, or a piece of a line too long to keep whole).
typealias OutputLine = @Sendable (RunEvent.OutputStream, [UInt8], _ partial: Bool) -> Void

struct RemoteRun {
    /// Runs `program`. `onGroup` is called as soon as the step's process group is known, so an
    /// interrupt can end it. `capture` keeps stdout in the result instead of streaming it.
    /// With a `shell`, a program of the login user runs in it when it is free. `redactor`
    /// keeps secrets whole where a long line is cut into pieces.
    static func run(
        _ program: RemoteProgram, on connection: any HostConnection, shell: HostShell? = nil,
        capture: Bool = false, channelTimeout: Duration? = nil,
        redactor: Redactor = Redactor(secrets: []),
        onGroup: @escaping @Sendable (Int) -> Void = { _ in },
        onLine: @escaping OutputLine = { _, _, _ in }
    ) async throws(SSHError) -> RemoteRunResult {
        let state = Mutex(ParseState(
            tag: Array(program.tag.utf8), capture: capture, redactor: redactor))
        let sink: @Sendable (OutputChunk) -> Void = { chunk in
            let events = state.withLock { $0.feed(chunk) }
            for event in events {
                switch event {
                case .line(let stream, let bytes, let partial): onLine(stream, bytes, partial)
                case .group(let group): onGroup(group)
                }
            }
        }
        let status: ExitStatus
        if let shell, case .user = program.privilege,
            let shellStatus = try await shell.run(
                program, timeout: channelTimeout, output: sink)
        {
            status = shellStatus
        } else {
            status = try await connection.exec(
                RemoteProgram.commandLine, stdin: program.stdin(), timeout: channelTimeout,
                output: sink
            ).status
        }
        let tail = state.withLock { $0.finish() }
        for event in tail {
            if case .line(let stream, let bytes, let partial) = event {
                onLine(stream, bytes, partial)
            }
        }
        return state.withLock { $0.result(channelStatus: status) }
    }
}

/// Splits both streams into lines and reads the marker lines.
private struct ParseState: Sendable {
    enum Event {
        case line(RunEvent.OutputStream, [UInt8], partial: Bool)
        case group(Int)
    }

    let tag: [UInt8]
    /// The tag and a space: what starts every marker line.
    let marker: [UInt8]
    let capture: Bool
    var out: LineSplitter
    var err: LineSplitter
    var captured: [UInt8] = []
    var exitCode: Int32?
    var timedOut = false
    var cwdFailed = false
    var failedLine: (line: Int, code: Int32, path: String)?
    var group: Int?
    var stderrTail: [String] = []

    init(tag: [UInt8], capture: Bool, redactor: Redactor) {
        self.tag = tag
        marker = tag + [32]
        self.capture = capture
        out = LineSplitter(redactor: redactor)
        err = LineSplitter(redactor: redactor.protecting(marker))
    }

    mutating func feed(_ chunk: OutputChunk) -> [Event] {
        switch chunk.stream {
        case .stdout:
            if capture {
                captured += chunk.bytes
                return []
            }
            return out.feed(chunk.bytes).map { .line(.stdout, $0.bytes, partial: !$0.endsLine) }
        case .stderr:
            return err.feed(chunk.bytes).flatMap { stderrLines($0) }
        }
    }

    mutating func finish() -> [Event] {
        var events: [Event] = []
        if !capture, let last = out.finish() {
            events.append(.line(.stdout, last.bytes, partial: true))
        }
        if let last = err.finish() { events += stderrLines(last) }
        return events
    }

    func result(channelStatus: ExitStatus) -> RemoteRunResult {
        // The marker is the wrapper's own word on how the job ended; the channel status only
        // says how the wrapper ended, and libssh2 reports 0 when it did not learn anything.
        var status = channelStatus
        if let exitCode {
            if exitCode > 128, exitCode < 160, let name = Self.signalName(exitCode - 128) {
                status = .signalled(name)
            } else {
                status = .exited(exitCode)
            }
        } else if channelStatus == .exited(0) {
            status = .unknown
        }
        var result = RemoteRunResult(status: status)
        result.timedOut = timedOut
        result.failedLine = failedLine
        result.cwdFailed = cwdFailed
        result.processGroup = group
        result.stdout = captured
        result.stderrTail = stderrTail
        return result
    }

    /// A stderr piece, or a marker, or both: a job whose last stderr line has no newline
    /// is followed on that line by the wrapper's marker. The tag is random, so wherever it
    /// stands it is the wrapper's (and the splitter never cuts inside it).
    private mutating func stderrLines(_ piece: LineSplitter.Piece) -> [Event] {
        let line = piece.bytes
        guard let found = line.firstOffset(of: marker), found > 0 || !piece.startsLine
        else {
            return stderrLine(piece).map { [$0] } ?? []
        }
        var pieces: [LineSplitter.Piece] = []
        if found > 0 {
            pieces.append(LineSplitter.Piece(
                bytes: Array(line[..<found]), endsLine: false,
                startsLine: piece.startsLine))
        }
        pieces.append(LineSplitter.Piece(
            bytes: Array(line[found...]), endsLine: piece.endsLine, startsLine: true))
        return pieces.compactMap { stderrLine($0) }
    }

    private mutating func stderrLine(_ piece: LineSplitter.Piece) -> Event? {
        let line = piece.bytes
        guard piece.startsLine, line.count > tag.count,
            line.prefix(marker.count).elementsEqual(marker)
        else {
            stderrTail.append(String(decoding: line, as: UTF8.self))
            if stderrTail.count > 20 { stderrTail.removeFirst() }
            return .line(.stderr, line, partial: !piece.endsLine)
        }
        let words = String(decoding: line.dropFirst(tag.count + 1), as: UTF8.self)
            .split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            .map(String.init)
        switch words.first {
        case "pgid":
            if words.count > 1, let value = Int(words[1]) {
                group = value
                return .group(value)
            }
        case "rc":
            if words.count > 1 { exitCode = Int32(words[1]) }
        case "timeout":
            timedOut = true
        case "cwd":
            cwdFailed = true
        case "err":
            if failedLine == nil, words.count > 2, let line = Int(words[1]),
                let code = Int32(words[2])
            {
                failedLine = (line, code, words.count > 3 ? words[3] : "")
            }
        default:
            break
        }
        return nil
    }

    private static func signalName(_ number: Int32) -> String? {
        let names: [Int32: String] = [
            1: "HUP", 2: "INT", 3: "QUIT", 4: "ILL", 6: "ABRT", 8: "FPE", 9: "KILL",
            11: "SEGV", 13: "PIPE", 14: "ALRM", 15: "TERM",
        ]
        return names[number]
    }
}
