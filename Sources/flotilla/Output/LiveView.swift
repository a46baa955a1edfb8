import Dispatch
import FlotillaEngine
import FlotillaSSH
import FoundationEssentials
import Synchronization

/// The terminal view: one line per host (stage, step, elapsed time, a bar for uploads over
/// 1 MB), redrawn in place about ten times a second. Failures, notes and (with `-v`)
/// output lines are printed above the live lines, which then redraw below them; the recap
/// follows the last drawing.
final class LiveView: RunOutput, @unchecked Sendable {
    static let progressThreshold = 1_000_000

    private struct HostState {
        enum Phase { case waiting, connecting, running, finished, failed, unreachable }
        var phase: Phase = .waiting
        var stage: String?
        var step: String?
        var stepStarted: Date?
        var upload: (sent: Int, total: Int)?
    }

    private let out: TextOutput
    private let verbosity: Verbosity
    private let palette: Palette
    private let now: @Sendable () -> Date
    private let lock = Mutex(())
    private var order: [String] = []
    private var states: [String: HostState] = [:]
    /// Lines the last drawing left on screen, to move back over.
    private var drawnLines = 0
    private var recentOutput = RecentOutput()
    private var timer: DispatchSourceTimer?
    private var finished = false

    init(
        out: TextOutput, verbosity: Verbosity, palette: Palette,
        now: @escaping @Sendable () -> Date = Date.init
    ) {
        self.out = out
        self.verbosity = verbosity
        self.palette = palette
        self.now = now
    }

    func note(_ text: String) {
        lock.withLock { _ in printAbove([palette.paint(text, .yellow)]) }
    }

    func receive(_ event: RunEvent) {
        lock.withLock { _ in handle(event) }
    }

    private func handle(_ event: RunEvent) {
        let host = event.host ?? ""
        switch event.kind {
        case .runStarted(_, _, let hosts, _, _, _):
            order = hosts
            for name in hosts { states[name] = HostState() }
            draw()
            startTimer()
        case .connecting:
            states[host]?.phase = .connecting
        case .connected:
            states[host]?.phase = .running
        case .unreachable(let message):
            states[host]?.phase = .unreachable
            printAbove([palette.paint("\(host) unreachable: \(message)", .red)])
        case .stageStarted, .stageFinished:
            break
        case .stepStarted(let stage, let step):
            states[host]?.phase = .running
            states[host]?.stage = stage
            states[host]?.step = step
            states[host]?.stepStarted = event.time
            states[host]?.upload = nil
            recentOutput.stepStarted(on: host)
        case .output(let stream, let line, let partial):
            let text = PlainOutput.outputLine(
                host: host, stream: stream, line: Self.printable(line), partial: partial)
            if verbosity == .verbose {
                printAbove([text])
            } else {
                recentOutput.append(text, for: host)
            }
        case .uploadProgress(_, let sent, let total):
            states[host]?.upload = total > Self.progressThreshold ? (sent, total) : nil
        case .stepFinished(let stage, let step, let status, let message, let duration):
            states[host]?.upload = nil
            if status == .failed {
                let ignored = IgnoredFailure.matches(status: status, message: message)
                if !ignored { states[host]?.phase = .failed }
                let result = PlainOutput.stepResult(
                    stage: stage, step: step, status: status, message: message,
                    duration: duration)
                printAbove(
                    [palette.paint("\(host) \(result)", ignored ? .yellow : .red)]
                        + recentOutput.take(for: host))
            }
        case .hostFinished(let summary):
            if states[host]?.phase != .failed && states[host]?.phase != .unreachable {
                states[host]?.phase =
                    summary.failed > 0 ? .failed : summary.unreachable > 0 ? .unreachable
                    : .finished
            }
        case .runFinished(_, let summaries, let runFolder):
            stopTimer()
            draw()
            finished = true
            drawnLines = 0
            out.write(lines: Recap(summaries: summaries, runFolder: runFolder).lines(
                palette: palette))
        }
        // Otherwise the timer draws the change, so a burst of events costs one drawing.
    }

    private func startTimer() {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "flotilla.live"))
        timer.schedule(deadline: .now() + .milliseconds(100), repeating: .milliseconds(100))
        timer.setEventHandler { [weak self] in
            guard let self else { return }
            self.lock.withLock { _ in self.draw() }
        }
        timer.resume()
        self.timer = timer
    }

    private func stopTimer() {
        timer?.cancel()
        timer = nil
    }

    /// Moves to the top of the live lines, clears them and prints `lines`; the next tick
    /// draws the live lines again below, so streaming output costs no drawing per line.
    private func printAbove(_ lines: [String]) {
        out.write(moveToTop() + "\u{1B}[J" + lines.joined(separator: "\n") + "\n")
        drawnLines = 0
    }

    private func moveToTop() -> String {
        drawnLines > 0 ? "\r\u{1B}[\(drawnLines)A" : "\r"
    }

    private func draw() {
        guard !finished, !order.isEmpty else { return }
        let (columns, rows) = out.terminalSize
        let lines = liveLines(maxLines: max(rows - 2, 3)).map { truncate($0, to: columns - 1) }
        var text = moveToTop()
        for line in lines {
            text += "\u{1B}[2K" + line + "\n"
        }
        text += "\u{1B}[J"
        out.write(text)
        drawnLines = lines.count
    }

    /// One line per host; when they do not fit, the busy ones and a count of the rest.
    private func liveLines(maxLines: Int) -> [String] {
        let width = order.map(\.count).max() ?? 0
        var shown = order
        var rest: [String] = []
        if order.count > maxLines {
            let busy = order.filter {
                states[$0]?.phase == .running || states[$0]?.phase == .connecting
            }
            shown = Array(busy.prefix(maxLines - 1))
            rest = order.filter { !shown.contains($0) }
        }
        var lines = shown.map { line(for: $0, width: width) }
        if !rest.isEmpty {
            let done = rest.filter { states[$0]?.phase == .finished }.count
            let failed = rest.filter {
                states[$0]?.phase == .failed || states[$0]?.phase == .unreachable
            }.count
            lines.append(
                "… \(rest.count) more hosts: \(done) done, \(failed) failed, "
                    + "\(rest.count - done - failed) waiting")
        }
        return lines
    }

    private func line(for host: String, width: Int) -> String {
        let state = states[host] ?? HostState()
        let name = host.padded(toLength: width)
        let place = [state.stage, state.step].compactMap { $0 }.joined(separator: " › ")
        switch state.phase {
        case .waiting:
            return "\(name)  " + palette.paint("waiting", .dim)
        case .connecting:
            return "\(name)  connecting…"
        case .unreachable:
            return "\(name)  " + palette.paint("unreachable", .red)
        case .failed:
            return "\(name)  " + palette.paint("failed at \(place)", .red)
        case .finished:
            return "\(name)  " + palette.paint("done", .green)
        case .running where place.isEmpty:
            return "\(name)  connected"
        case .running:
            var text = "\(name)  \(place)"
            if let started = state.stepStarted {
                text += "  " + Duration.seconds(now().timeIntervalSince(started)).display
            }
            if let upload = state.upload {
                text += "  " + Self.bar(sent: upload.sent, total: upload.total)
            }
            return text
        }
    }

    /// `[########------------]  42% 12.6/30.0 MB`
    static func bar(sent: Int, total: Int, width: Int = 20) -> String {
        let fraction = total > 0 ? min(max(Double(sent) / Double(total), 0), 1) : 0
        let filled = Int((fraction * Double(width)).rounded(.down))
        let percent = Int((fraction * 100).rounded(.down))
        let megabytes = { (bytes: Int) in (Double(bytes) / 1e6).text(places: 1) }
        return "[" + String(repeating: "#", count: filled)
            + String(repeating: "-", count: width - filled) + "] "
            + String(repeating: " ", count: 3 - "\(percent)".count) + "\(percent)% "
            + "\(megabytes(sent))/\(megabytes(total)) MB"
    }

    /// Keeps a drawn line on one terminal row; colour codes do not count as columns.
    private func truncate(_ line: String, to columns: Int) -> String {
        var visible = 0
        var result = ""
        var inEscape = false
        for character in line {
            if character == "\u{1B}" { inEscape = true }
            if !inEscape {
                if visible == columns { return result + (palette.enabled ? "\u{1B}[0m" : "") }
                visible += 1
            }
            result.append(character)
            if inEscape && character.isLetter { inEscape = false }
        }
        return result
    }

    /// Remote bytes on a terminal: control characters (escape sequences, carriage returns)
    /// become `?` so a host's output cannot move the cursor or recolour the screen.
    static func printable(_ bytes: [UInt8]) -> [UInt8] {
        bytes.map { $0 < 0x20 && $0 != 0x09 || $0 == 0x7F ? UInt8(ascii: "?") : $0 }
    }
}
