// A unified diff of two texts for `--diff`, made from a longest-common-subsequence table.
// Files too large for the table, or not text, are named without their content.

enum UnifiedDiff {
    static let maxCells = 4_000_000
    static let context = 3

    private enum Edit: Equatable {
        case same(Int, Int)
        case removed(Int)
        case added(Int)
    }

    static func lines(old: [UInt8], new: [UInt8], oldName: String, newName: String) -> [String] {
        guard let oldText = String(validating: old, as: UTF8.self),
            let newText = String(validating: new, as: UTF8.self),
            !old.contains(0), !new.contains(0)
        else {
            return ["Binary files \(oldName) and \(newName) differ"]
        }
        let a = split(oldText)
        let b = split(newText)
        guard a.count * b.count <= maxCells else {
            return ["Files \(oldName) and \(newName) differ (too large to show)"]
        }
        let edits = script(a, b)
        var out = ["--- \(oldName)", "+++ \(newName) (new)"]
        for hunk in hunks(edits) {
            out += render(hunk, edits, a, b)
        }
        return out
    }

    private static func split(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    private static func script(_ a: [String], _ b: [String]) -> [Edit] {
        let n = a.count
        let m = b.count
        // table[i][j]: length of the common subsequence of a[i...] and b[j...].
        var table = [[Int32]](repeating: [Int32](repeating: 0, count: m + 1), count: n + 1)
        if n > 0 && m > 0 {
            for i in stride(from: n - 1, through: 0, by: -1) {
                for j in stride(from: m - 1, through: 0, by: -1) {
                    table[i][j] = a[i] == b[j]
                        ? table[i + 1][j + 1] + 1 : max(table[i + 1][j], table[i][j + 1])
                }
            }
        }
        var edits: [Edit] = []
        var i = 0
        var j = 0
        while i < n || j < m {
            if i < n, j < m, a[i] == b[j] {
                edits.append(.same(i, j))
                i += 1
                j += 1
            } else if i < n, j == m || table[i + 1][j] >= table[i][j + 1] {
                // Removals first, as `diff -u` shows them.
                edits.append(.removed(i))
                i += 1
            } else {
                edits.append(.added(j))
                j += 1
            }
        }
        return edits
    }

    /// Ranges of edit indexes to show: each change with `context` unchanged lines around it.
    private static func hunks(_ edits: [Edit]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        for (index, edit) in edits.enumerated() {
            if case .same = edit { continue }
            let lower = max(0, index - context)
            let upper = min(edits.count, index + context + 1)
            if let last = ranges.last, last.upperBound >= lower {
                ranges[ranges.count - 1] = last.lowerBound..<max(last.upperBound, upper)
            } else {
                ranges.append(lower..<upper)
            }
        }
        return ranges
    }

    private static func render(
        _ range: Range<Int>, _ edits: [Edit], _ a: [String], _ b: [String]
    ) -> [String] {
        var oldStart: Int?
        var newStart: Int?
        var oldCount = 0
        var newCount = 0
        var body: [String] = []
        // The position in each file where the hunk begins, for hunks that start with an edit.
        var oldCursor = 0
        var newCursor = 0
        for edit in edits[..<range.lowerBound] {
            switch edit {
            case .same: oldCursor += 1; newCursor += 1
            case .removed: oldCursor += 1
            case .added: newCursor += 1
            }
        }
        for edit in edits[range] {
            switch edit {
            case .same(let i, let j):
                oldStart = oldStart ?? i
                newStart = newStart ?? j
                oldCount += 1
                newCount += 1
                body.append(" " + a[i])
            case .removed(let i):
                oldStart = oldStart ?? i
                newStart = newStart ?? newCursor
                oldCount += 1
                body.append("-" + a[i])
            case .added(let j):
                oldStart = oldStart ?? oldCursor
                newStart = newStart ?? j
                newCount += 1
                body.append("+" + b[j])
            }
        }
        let oldFirst = oldCount == 0 ? (oldStart ?? 0) : (oldStart ?? 0) + 1
        let newFirst = newCount == 0 ? (newStart ?? 0) : (newStart ?? 0) + 1
        return ["@@ -\(oldFirst),\(oldCount) +\(newFirst),\(newCount) @@"] + body
    }
}
