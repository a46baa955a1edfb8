import Testing

@testable import flotilla

@Suite struct ParsedArgumentsTests {
    @Test func optionsTakeTheirValueAfterASpaceOrAnEqualsSignOrAttached() async throws {
        let parsed = try ParsedArguments(
            ["deploy.yml", "-i", "a.yml", "-ib.yml", "--inventory=c.yml", "--forks", "3",
             "--check", "-e", "k=v=w"],
            spec: .run)
        #expect(parsed.positionals == ["deploy.yml"])
        #expect(parsed.all("inventory") == ["a.yml", "b.yml", "c.yml"])
        #expect(parsed.value("forks") == "3")
        #expect(parsed.has("check"))
        #expect(parsed.all("extra-var") == ["k=v=w"])
    }

    @Test(arguments: [
        (["--frobnicate"], "unknown option '--frobnicate'"),
        (["p.yml", "--forks"], "missing value for '--forks' (N)"),
        (["p.yml", "--check=yes"], "'--check' takes no value (got 'yes')"),
        (["p.yml", "-l", "web", "-l", "db"], "'-l' may be given only once"),
    ])
    func badCommandLinesAreUsageErrorsNamingTheProblem(tokens: [String], message: String) {
        #expect(throws: UsageError(message, command: "run")) {
            try ParsedArguments(tokens, spec: .run)
        }
    }

    @Test func execKeepsEverythingAfterTheCommandStartsIncludingItsDashes() async throws {
        let parsed = try ParsedArguments(["-l", "web", "uname", "-a", "--help"], spec: .exec)
        #expect(parsed.value("limit") == "web")
        #expect(parsed.positionals == ["uname", "-a", "--help"])

        let separated = try ParsedArguments(["--", "-x", "y"], spec: .exec)
        #expect(separated.positionals == ["-x", "y"])
    }

    @Test func durationsReadSecondsMinutesHoursAndCombinations() {
        #expect(Duration(flotillaText: "90s") == .seconds(90))
        #expect(Duration(flotillaText: "15m") == .seconds(900))
        #expect(Duration(flotillaText: "1h") == .seconds(3600))
        #expect(Duration(flotillaText: "1m30s") == .seconds(90))
        #expect(Duration(flotillaText: "90") == nil)
        #expect(Duration(flotillaText: "5d") == nil)
    }
}
