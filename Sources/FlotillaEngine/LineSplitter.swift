// Cuts a stream of output chunks into whole lines, so a line split across two chunks is never
// shown as two lines and no output ever shows half a line from one host.

struct LineSplitter: Sendable {
    private var pending: [UInt8] = []

    /// The complete lines in `bytes` (without their newline), keeping the rest for later.
    mutating func feed(_ bytes: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
                lines.append(pending)
                pending = []
            } else {
                pending.append(byte)
            }
        }
        return lines
    }

    /// The last line when it had no newline.
    mutating func finish() -> [UInt8]? {
        defer { pending = [] }
        return pending.isEmpty ? nil : pending
    }
}
