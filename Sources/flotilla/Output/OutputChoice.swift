import FlotillaEngine

/// `--output`, `-v` and `-q` of `run` and `exec`, and the output they make.
struct OutputChoice: Sendable {
    var mode: OutputMode
    var verbosity: Verbosity

    init(_ arguments: ParsedArguments, command: String) throws(UsageError) {
        let text = arguments.value("output") ?? "auto"
        guard let mode = OutputMode(rawValue: text) else {
            let modes = OutputMode.allCases.map(\.rawValue).joined(separator: ", ")
            throw UsageError(
                "'--output' must be one of \(modes) (got '\(text)')", command: command)
        }
        self.mode = mode
        switch (arguments.has("verbose"), arguments.has("quiet")) {
        case (true, true):
            throw UsageError("'-v' and '-q' cannot be used together", command: command)
        case (true, false): verbosity = .verbose
        case (false, true): verbosity = .quiet
        case (false, false):
            // The diff arrives as step output: asking for it means wanting to see it.
            verbosity = arguments.has("diff") ? .verbose : .normal
        }
    }

    /// The output for this process: auto resolved against the environment and stdout.
    func makeOutput(environment: [String: String]) -> any RunOutput {
        let out = TextOutput.standardOutput
        switch mode.resolved(environment: environment, stdoutIsTerminal: out.isTerminal) {
        case .github:
            // Secrets are redacted in every line anyway; outside a runner the masks would
            // only print them.
            return GitHubOutput(
                out: out, verbosity: verbosity, summaryPath: environment["GITHUB_STEP_SUMMARY"],
                masksSecrets: environment["GITHUB_ACTIONS"] == "true")
        case .json:
            return JSONOutput(out: out, errors: TextOutput.standardError)
        case .tty:
            return LiveView(
                out: out, verbosity: verbosity,
                palette: Palette(isTerminal: out.isTerminal, environment: environment))
        case .plain, .auto:
            return PlainOutput(out: out, verbosity: verbosity)
        }
    }
}
