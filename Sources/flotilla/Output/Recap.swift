import FlotillaSupport
import FlotillaConfig
import FlotillaEngine
import FoundationEssentials

/// The table that ends every run: per host the count of each step status, the failures
/// that `ignore_errors` let pass, and why it stopped. It shows what the engine reported,
/// and computes nothing of its own.
struct Recap: Sendable {
    var summaries: [HostSummary]
    var runFolder: String

    private static let columns = [
        "host", "ok", "changed", "skipped", "failed", "unreachable", "ignored",
    ]

    private func row(_ summary: HostSummary) -> [String] {
        [summary.host, "\(summary.ok)", "\(summary.changed)", "\(summary.skipped)",
         "\(summary.failed)", "\(summary.unreachable)", "\(summary.ignored)"]
    }

    /// Aligned text columns, names left and counts right, then `logs: <runFolder>`.
    func lines(palette: Palette = Palette(enabled: false)) -> [String] {
        let rows = summaries.map(row)
        let widths = Self.columns.indices.map { column in
            ([Self.columns[column]] + rows.map { $0[column] }).map(\.count).max()!
        }
        func format(_ cells: [String]) -> String {
            cells.enumerated().map { column, cell in
                column == 0
                    ? cell.padded(toLength: widths[0])
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  ")
        }

        var lines = ["", palette.paint("RECAP", .bold), format(Self.columns) + "  reason"]
        for (summary, cells) in zip(summaries, rows) {
            var line = format(cells)
            if let failure = summary.failure {
                line += "  " + failure
            }
            let troubled = summary.failed > 0 || summary.unreachable > 0
            lines.append(troubled ? palette.paint(line, .red) : line)
        }
        lines.append("logs: \(runFolder)")
        return lines
    }

    /// The same table in Markdown, for `$GITHUB_STEP_SUMMARY`.
    func markdown(title: String) -> String {
        var text = "### \(title)\n\n"
        text += "| " + (Self.columns + ["reason"]).joined(separator: " | ") + " |\n"
        text += "|---|" + String(repeating: "---:|", count: Self.columns.count - 1) + "---|\n"
        for summary in summaries {
            let reason = summary.failure.map(Self.escapeMarkdownCell) ?? ""
            let cells = row(summary).enumerated().map { index, cell in
                index == 0 ? Self.escapeMarkdownCell(cell) : cell
            }
            text += "| " + (cells + [reason]).joined(separator: " | ") + " |\n"
        }
        text += "\nlogs: `\(runFolder)`\n"
        return text
    }

    private static func escapeMarkdownCell(_ text: String) -> String {
        text.replacingEvery("|", with: "\\|").replacingEvery("\n", with: " ")
    }
}
