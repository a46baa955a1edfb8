/// Left-aligned text columns with a header row, two spaces apart.
struct Table: Sendable {
    var header: [String]
    var rows: [[String]]

    func lines() -> [String] {
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max()!
        }
        return ([header] + rows).map { cells in
            cells.enumerated().map { column, cell in
                column == cells.count - 1
                    ? cell : cell.padded(toLength: widths[column])
            }.joined(separator: "  ").trimmingTrailingSpaces()
        }
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
