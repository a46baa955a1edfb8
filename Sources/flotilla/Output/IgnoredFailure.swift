import FlotillaEngine

/// A failed step that `ignore_errors` let pass. The engine reports it as failed with a
/// message starting `ignored: ` (docs/running.md); the host goes on, so outputs show it as
/// a warning rather than a failure.
enum IgnoredFailure {
    static let prefix = "ignored: "

    static func matches(status: StepStatus, message: String?) -> Bool {
        status == .failed && message?.hasPrefix(prefix) == true
    }
}
