import Foundation

/// Where an output writes its text: a file descriptor (stdout, stderr) or, in tests, memory.
/// Each `write` reaches the descriptor whole before another starts, so lines written by
/// different hosts' tasks never mix.
final class TextOutput: @unchecked Sendable {
    static let standardOutput = TextOutput(fileDescriptor: STDOUT_FILENO)
    static let standardError = TextOutput(fileDescriptor: STDERR_FILENO)

    private let lock = NSLock()
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
        lock.withLock { String(decoding: captured, as: UTF8.self) }
    }

    func write(_ text: String) {
        guard !text.isEmpty else { return }
        let bytes = Array(text.utf8)
        lock.withLock {
            guard let fileDescriptor else {
                captured += bytes
                return
            }
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = Foundation.write(
                        fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 && errno == EINTR { continue }
                    // A closed pipe (`flotilla run … | head`) drops the rest quietly.
                    guard written > 0 else { return }
                    offset += written
                }
            }
        }
    }

    func write(lines: [String]) {
        guard !lines.isEmpty else { return }
        write(lines.joined(separator: "\n") + "\n")
    }
}
