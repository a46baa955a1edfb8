import FlotillaSandbox
import Foundation
import Testing

/// Everything a run writes, scanned for every secret in every form a step could print it:
/// the value, its base64 (with and without padding) and its URL encodings. Passing and
/// failing runs, through every output mode and verbosity, with diffs shown.
@Suite struct SecretScanTests {
    static let token = "Sekret/with+url=chars&42 ü"
    static let fileSecret = "db-Pa55word-7731\n"

    static let playbook = """
        name: scan
        hosts: all
        secrets:
          token: env:FLOTILLA_SCAN_TOKEN
          db: file:db-password
        stages:
          - name: leak
            steps:
              - name: print every form
                run: |
                  urlencode() {
                    local LC_ALL=C s="$1" i c
                    for ((i = 0; i < ${#s}; i++)); do
                      c="${s:i:1}"
                      case "$c" in
                        [a-zA-Z0-9.~_-]) printf '%s' "$c" ;;
                        *) printf '%%%02X' "'$c" ;;
                      esac
                    done
                    echo
                  }
                  echo "plain $TOKEN and $DB"
                  printf '%s' "$TOKEN" | base64
                  printf '%s' "$TOKEN" | base64 | tr -d '='
                  printf '%s' "$DB" | base64 -w0; echo
                  urlencode "$TOKEN"
                  urlencode "$TOKEN" | tr 'A-F' 'a-f'
                  echo "stderr $TOKEN" >&2
                env: { TOKEN: "{{ secrets.token }}", DB: "{{ secrets.db }}" }
              - name: write the env file
                content: "TOKEN={{ secrets.token }}\\nDB={{ secrets.db }}\\n"
                to: ~/scan.env
                mode: "0600"
              - name: end
                run: |
                  echo "ending with $TOKEN" >&2
                  exit {{ exit_code }}
                env: { TOKEN: "{{ secrets.token }}" }

        """

    /// Every form of every secret that must never be written anywhere.
    static var forbidden: [String] {
        var forms: [String] = []
        for value in [token, fileSecret, fileSecret.trimmingCharacters(in: .newlines)] {
            let base64 = Data(value.utf8).base64EncodedString()
            forms += [value, base64, base64.replacingOccurrences(of: "=", with: "")]
        }
        let encoded = "Sekret%2Fwith%2Burl%3Dchars%2642%20%C3%BC"
        return forms + [encoded, encoded.lowercased(), encoded.replacingOccurrences(
            of: "%20", with: "+")]
    }

    struct Mode: Sendable, CustomTestStringConvertible {
        var name: String
        var arguments: [String]
        var onTerminal = false
        var github = false
        var testDescription: String { name }
    }

    static let modes: [Mode] = [
        Mode(name: "plain", arguments: ["--output", "plain"]),
        Mode(name: "plain -v --diff", arguments: ["--output", "plain", "-v", "--diff"]),
        Mode(name: "plain -q", arguments: ["--output", "plain", "-q"]),
        Mode(name: "json", arguments: ["--output", "json", "--diff"]),
        Mode(name: "github -v", arguments: ["-v", "--diff"], github: true),
        Mode(name: "terminal -v --diff", arguments: ["-v", "--diff"], onTerminal: true),
    ]

    @Test(arguments: modes, [0, 3])
    func noSecretInAnyFormReachesAnythingARunWrites(mode: Mode, exitCode: Int) async throws {
        let prefix = "sc\(Self.modes.firstIndex { $0.name == mode.name } ?? 0)\(exitCode)-"
        try await CLIFleet.with(count: 1, prefix: prefix) { fleet, folder in
            let playbook = try folder.write("scan.yml", Self.playbook)
            try folder.write("db-password", Self.fileSecret)
            let summary = try folder.write("summary.md", "")
            let logs = folder.url.appendingPathComponent("runs").path
            var environment = ["FLOTILLA_SCAN_TOKEN": Self.token, "TERM": "xterm"]
            if mode.github {
                environment["GITHUB_ACTIONS"] = "true"
                environment["GITHUB_STEP_SUMMARY"] = summary
            }
            // Twice: the first run writes the env file, the second shows its diff.
            var written = ""
            for round in 1...2 {
                let arguments = ["run", playbook, "-i", fleet.inventoryPath, "--logs", logs,
                                 "-e", "exit_code=\(exitCode)"]
                    + mode.arguments
                let result = try await Self.run(
                    arguments, onTerminal: mode.onTerminal, environment: environment,
                    in: folder.url)
                #expect(result.status == (exitCode == 0 ? 0 : 1), "\(result.stderr)")
                written += result.stdout + result.stderr
                if round == 1 {
                    try folder.write("db-password", "db-Changed-9911\n")
                }
            }
            for file in try FileManager.default.subpathsOfDirectory(atPath: logs) {
                written += (try? String(
                    contentsOfFile: logs + "/" + file, encoding: .utf8)) ?? ""
            }
            written += try String(contentsOfFile: summary, encoding: .utf8)

            // GitHub's runner hides what an ::add-mask:: line names, and shows nothing of
            // the line itself.
            let scanned = written.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { !$0.hasPrefix("::add-mask::") }.joined(separator: "\n")
            for form in Self.forbidden {
                #expect(!scanned.contains(form), "\(form) was written")
            }
            // The step did print: what was printed is there, masked.
            let log = try Self.hostLog(in: logs, host: prefix + "1")
            #expect(log.contains("plain ******** and ********"))
            #expect(log.contains("stderr ********"))
            #expect(!log.contains("%2F") && !log.contains("%2f"))
            let home = fleet.hosts[0].home
            let envFile = try String(contentsOfFile: home + "/scan.env", encoding: .utf8)
            #expect(envFile.hasPrefix("TOKEN=\(Self.token)\nDB=db-Changed-9911"))
        }
    }

    static func run(
        _ arguments: [String], onTerminal: Bool, environment: [String: String], in folder: URL
    ) async throws -> FlotillaProcess.Result {
        guard onTerminal else {
            return try await FlotillaProcess.run(arguments, environment: environment, in: folder)
        }
        let command = ([FlotillaProcess.executable.path] + arguments)
            .map { "'\($0)'" }.joined(separator: " ")
        let running = try FlotillaProcess(
            ["-qfec", command, "/dev/null"], environment: environment, in: folder,
            executable: URL(fileURLWithPath: "/usr/bin/script"))
        return try await running.wait(timeout: 60)
    }

    static func hostLog(in logs: String, host: String) throws -> String {
        let runs = try FileManager.default.contentsOfDirectory(atPath: logs).sorted()
        return try runs.map {
            try String(contentsOfFile: "\(logs)/\($0)/\(host).log", encoding: .utf8)
        }.joined()
    }
}
