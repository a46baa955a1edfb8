extension Duration {
    /// `90s`, `15m`, `1h`, or combinations like `1m30s`, as everywhere in Flotilla.
    init?(flotillaText text: String) {
        var total: Int64 = 0
        var number = ""
        for character in text {
            if character.isASCII && character.isNumber {
                number.append(character)
                continue
            }
            let unit: Int64
            switch character {
            case "s": unit = 1
            case "m": unit = 60
            case "h": unit = 3600
            default: return nil
            }
            guard let value = Int64(number) else { return nil }
            total += value * unit
            number = ""
        }
        guard number.isEmpty, total > 0 else { return nil }
        self = .seconds(total)
    }
}
