import FlotillaEngine

/// How a run is shown (`--output`).
enum OutputMode: String, Sendable, CaseIterable {
    case auto, tty, plain, github, json

    /// `auto` made concrete: GitHub Actions when it says so, a live view on a terminal,
    /// plain lines otherwise.
    func resolved(environment: [String: String], stdoutIsTerminal: Bool) -> OutputMode {
        guard self == .auto else { return self }
        if environment["GITHUB_ACTIONS"] == "true" { return .github }
        return stdoutIsTerminal ? .tty : .plain
    }
}

/// How much a run prints: `-q`, default, `-v`.
enum Verbosity: Sendable {
    case quiet, normal, verbose
}

/// A run's output: an event sink that can also print a note of its own (the interrupt
/// message) without breaking what it draws.
protocol RunOutput: RunEventSink {
    func note(_ text: String)
}
