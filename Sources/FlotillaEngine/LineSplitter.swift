// Cuts a stream of output chunks into whole lines, so a line split across two chunks is never
// shown as two lines and no output ever shows half a line from one host. A line longer than
// the limit comes out in pieces, so memory stays bounded whatever a command prints (a
// progress bar redrawn with CR for an hour, a binary file sent to the terminal).

struct LineSplitter: Sendable {
    /// A line, or a piece of a long one.
    struct Piece: Sendable, Equatable {
        var bytes: [UInt8]
        /// A newline ended it; false for a piece cut for length and for a last line without
        /// a newline.
        var endsLine: Bool
        /// It starts a line; false for the pieces after the first of a long line.
        var startsLine: Bool
    }

    static let defaultLimit = 64 * 1024

    private let limit: Int
    private let redactor: Redactor
    private var pending: [UInt8] = []
    private var pendingStartsLine = true

    /// `redactor` chooses where a long line is cut, so that no secret is split between two
    /// pieces and left unmasked in both.
    init(limit: Int = Self.defaultLimit, redactor: Redactor = Redactor(secrets: [])) {
        self.limit = max(limit, 2 * redactor.longestForm)
        self.redactor = redactor
    }

    /// The complete lines in `bytes` (without their newline), and pieces of lines longer than
    /// the limit, keeping the rest for later.
    mutating func feed(_ bytes: [UInt8]) -> [Piece] {
        var pieces: [Piece] = []
        var rest = bytes[...]
        while let newline = rest.firstIndex(of: UInt8(ascii: "\n")) {
            pending += rest[..<newline]
            rest = rest[(newline + 1)...]
            if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
            cutLongLine(into: &pieces)
            pieces.append(Piece(bytes: pending, endsLine: true, startsLine: pendingStartsLine))
            pending = []
            pendingStartsLine = true
        }
        pending += rest
        cutLongLine(into: &pieces)
        return pieces
    }

    /// The last line when it had no newline.
    mutating func finish() -> Piece? {
        defer {
            pending = []
            pendingStartsLine = true
        }
        guard !pending.isEmpty else { return nil }
        return Piece(bytes: pending, endsLine: false, startsLine: pendingStartsLine)
    }

    private mutating func cutLongLine(into pieces: inout [Piece]) {
        while pending.count > limit {
            let cut = redactor.cutPoint(pending, limit: limit)
            pieces.append(Piece(
                bytes: Array(pending[..<cut]), endsLine: false, startsLine: pendingStartsLine))
            pending.removeFirst(cut)
            pendingStartsLine = false
        }
    }
}
