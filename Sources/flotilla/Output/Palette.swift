import FlotillaEngine

/// ANSI colours, used only on a terminal and never when NO_COLOR is set.
struct Palette: Sendable {
    enum Colour: String, Sendable {
        case red = "31", green = "32", yellow = "33", cyan = "36", dim = "2", bold = "1"
    }

    var enabled: Bool

    /// Colour on a terminal unless NO_COLOR holds anything (no-color.org).
    init(isTerminal: Bool, environment: [String: String]) {
        enabled = isTerminal && (environment["NO_COLOR"] ?? "").isEmpty
    }

    init(enabled: Bool) {
        self.enabled = enabled
    }

    func paint(_ text: String, _ colour: Colour) -> String {
        enabled ? "\u{1B}[\(colour.rawValue)m\(text)\u{1B}[0m" : text
    }

    func paint(_ text: String, for status: StepStatus) -> String {
        switch status {
        case .ok: paint(text, .green)
        case .changed: paint(text, .yellow)
        case .skipped: paint(text, .cyan)
        case .failed, .unreachable: paint(text, .red)
        }
    }
}
