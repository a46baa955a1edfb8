// Durations as users write them: `90s`, `15m`, `1h`, `1m30s`, `500ms`.

enum DurationText {
    /// The duration, or nil when `text` is not one (a bare number included).
    static func parse(_ text: String) -> Duration? {
        let units: [(suffix: String, milliseconds: Int64)] = [
            ("ms", 1), ("h", 3_600_000), ("m", 60_000), ("s", 1000),
        ]
        var rest = Substring(text)
        var total: Int64 = 0
        var lastRank = -1
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty, digits.count <= 9, let number = Int64(digits) else {
                return nil
            }
            rest = rest.dropFirst(digits.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.suffix) }) else { return nil }
            // Units go from large to small, each at most once: `1m30s`, not `30s1m`.
            let rank = ["h", "m", "s", "ms"].firstIndex(of: unit.suffix)!
            guard rank > lastRank else { return nil }
            lastRank = rank
            rest = rest.dropFirst(unit.suffix.count)
            total += number * unit.milliseconds
        }
        return .milliseconds(total)
    }

    /// The same duration written back the short way, for listings.
    static func format(_ duration: Duration) -> String {
        let ms = duration.components.seconds * 1000
            + duration.components.attoseconds / 1_000_000_000_000_000
        if ms % 1000 != 0 { return "\(ms)ms" }
        var seconds = ms / 1000
        var text = ""
        if seconds >= 3600 { text += "\(seconds / 3600)h"; seconds %= 3600 }
        if seconds >= 60 { text += "\(seconds / 60)m"; seconds %= 60 }
        if seconds > 0 || text.isEmpty { text += "\(seconds)s" }
        return text
    }
}
