import Foundation

/// Enough of a terminal to read what the live view leaves on screen: printable text, CR,
/// LF, cursor up (`ESC[nA`), erase line (`ESC[2K`) and erase below (`ESC[J`). Colours and
/// other sequences are skipped. Rows grow without limit, like a scrollback.
struct TerminalScreen {
    private(set) var rows: [[Character]] = [[]]
    private var row = 0
    private var column = 0

    init(_ text: String) {
        var iterator = Array(text).makeIterator()
        while let character = iterator.next() {
            switch character {
            case "\r":
                column = 0
            case "\n", "\r\n":
                row += 1
                if character == "\r\n" { column = 0 }
                if row == rows.count { rows.append([]) }
            case "\u{1B}":
                var sequence = ""
                guard iterator.next() == "[" else { continue }
                while let next = iterator.next() {
                    sequence.append(next)
                    if next.isLetter { break }
                }
                apply(sequence)
            default:
                put(character)
            }
        }
    }

    /// The screen's lines without trailing blanks, and without empty lines at the end.
    var lines: [String] {
        var lines = rows.map { String($0).replacingOccurrences(of: "\\s+$", with: "",
            options: .regularExpression) }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    private mutating func put(_ character: Character) {
        while rows[row].count < column { rows[row].append(" ") }
        if column < rows[row].count {
            rows[row][column] = character
        } else {
            rows[row].append(character)
        }
        column += 1
    }

    private mutating func apply(_ sequence: String) {
        let argument = Int(sequence.dropLast()) ?? 0
        switch sequence.last {
        case "A":
            row = max(0, row - max(argument, 1))
        case "K" where argument == 2:
            rows[row] = []
        case "J":
            rows[row] = Array(rows[row].prefix(column))
            rows.removeSubrange((row + 1)...)
        default:
            break
        }
    }
}
