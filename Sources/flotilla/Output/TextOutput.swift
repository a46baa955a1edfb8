import FlotillaEngine
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where an output writes its text: a file descriptor (stdout, stderr) or, in tests, memory.
/// Each `write` reaches the descriptor whole before another starts, so lines written by
/// different hosts' tasks never mix.
final class TextOutput: @unchecked Sendable {
    static let standardOutput = TextOutput(fileDescriptor: STDOUT_FILENO)
    static let standardError = TextOutput(fileDescriptor: STDERR_FILENO)

    private let lock = Mutex(())
    private let fileDescriptor: Int32?
    private var captured: [UInt8] = []

    init(fileDescriptor: Int32) {
        self.fileDescriptor = fileDescriptor
    }

    /// Keeps what is written, for `text`.
    init() {
        self.fileDescriptor = nil
    }

    var isTerminal: Bool {
        fileDescriptor.map { isatty($0) == 1 } ?? false
    }

    /// The terminal's columns and rows, or 80×24 when it does not say.
    var terminalSize: (columns: Int, rows: Int) {
        var size = winsize()
        guard let fileDescriptor, ioctl(fileDescriptor, UInt(TIOCGWINSZ), &size) == 0,
            size.ws_col > 0
        else { return (80, 24) }
        return (Int(size.ws_col), Int(size.ws_row))
    }

    /// What was written so far, when capturing.
    var text: String {
        lock.withLock { _ in String(decoding: captured, as: UTF8.self) }
    }

    func write(_ text: String) {
        guard !text.isEmpty else { return }
        let bytes = Array(text.utf8)
        lock.withLock { _ in
            guard let fileDescriptor else {
                captured += bytes
                return
            }
            AppendingFile.write(bytes, to: fileDescriptor)
        }
    }

    func write(lines: [String]) {
        guard !lines.isEmpty else { return }
        write(lines.joined(separator: "\n") + "\n")
    }
}
