import FlotillaSSH

/// `flotilla version`: ours and the libssh2 this process runs with.
struct VersionCommand: Command {
    static let spec = CommandSpec.version

    init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        try arguments.expectNoPositionals(command: "version")
    }

    func run() async throws -> Int32 {
        TextOutput.standardOutput.write(lines: [
            "flotilla \(Flotilla.version)", "libssh2 \(libssh2RuntimeVersion)",
        ])
        return 0
    }
}
