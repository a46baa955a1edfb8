extension Duration {
    /// `0.4s`, `12.0s`, `2m05s`, `1h02m`: short enough for a table column.
    var display: String {
        let (seconds, attoseconds) = components
        let total = Double(seconds) + Double(attoseconds) / 1e18
        if total < 60 {
            let tenths = Int((total * 10).rounded())
            return "\(tenths / 10).\(tenths % 10)s"
        }
        let whole = Int(total)
        if whole < 3600 {
            return "\(whole / 60)m" + twoDigits(whole % 60) + "s"
        }
        return "\(whole / 3600)h" + twoDigits(whole / 60 % 60) + "m"
    }

    private func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : "\(value)"
    }
}
