import Foundation
import Testing

@testable import FlotillaEngine

@Suite struct RedactorTests {
    @Test(arguments: [
        ("token=hunter2-Sekret!", "token=********"),
        ("b64 aHVudGVyMi1TZWtyZXQh end", "b64 ******** end"),
        ("url hunter2-Sekret%21 end", "url ******** end"),
        ("twice hunter2-Sekret!hunter2-Sekret!", "twice ****************"),
        ("nothing here", "nothing here"),
    ])
    func secretsAndTheirEncodedFormsAreMasked(input: String, expected: String) {
        let redactor = Redactor(secrets: ["hunter2-Sekret!"])
        #expect(redactor.redact(input) == expected)
    }

    @Test(arguments: [
        "Sekret%2Fwith%2Burl%3Dchars%2642%20%C3%BC",
        "Sekret%2fwith%2burl%3dchars%2642%20%c3%bc",
        "Sekret%2Fwith%2Burl%3Dchars%2642+%C3%BC",
    ])
    func everyURLEncodingOfASecretIsMasked(encoded: String) {
        let redactor = Redactor(secrets: ["Sekret/with+url=chars&42 ü"])
        #expect(redactor.redact("?q=\(encoded)&x=1") == "?q=********&x=1")
    }

    @Test func bytesThatAreNotUTF8AreRedactedAndKept() {
        let redactor = Redactor(secrets: ["abcd"])
        let input: [UInt8] = [0xff, 0xfe] + Array("abcd".utf8) + [0x80]
        #expect(redactor.redact(input) == [0xff, 0xfe] + Array("********".utf8) + [0x80])
    }

    @Test func aLongerSecretContainingAShorterOneIsMaskedWhole() {
        let redactor = Redactor(secrets: ["pass", "password-long"])
        #expect(redactor.redact("x password-long y pass") == "x ******** y ********")
    }

    @Test func eachLineOfAMultiLineSecretIsMasked() {
        let redactor = Redactor(secrets: ["DB_PASSWORD=one-two\nAPI_KEY=three-four\n"])
        #expect(redactor.redact("API_KEY=three-four") == "********")
    }

    @Test func emptySecretsAreIgnored() {
        #expect(Redactor(secrets: ["", ""]).isEmpty)
    }
}

@Suite struct LineSplitterTests {
    @Test func aLineSplitAcrossChunksComesOutWhole() {
        var splitter = LineSplitter()
        #expect(splitter.feed(Array("li".utf8)).isEmpty)
        #expect(splitter.feed(Array("ne1\nline2\r\nta".utf8)) == [
            Array("line1".utf8), Array("line2".utf8),
        ])
        #expect(splitter.finish() == Array("ta".utf8))
        #expect(splitter.finish() == nil)
    }
}

@Suite struct UnifiedDiffTests {
    @Test func aChangedLineIsShownWithItsContext() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n"
        let new = "a\nb\nc\nd\nE\nf\ng\nh\n"
        let lines = UnifiedDiff.lines(
            old: Array(old.utf8), new: Array(new.utf8), oldName: "x", newName: "x")
        #expect(lines == [
            "--- x", "+++ x (new)", "@@ -2,7 +2,7 @@", " b", " c", " d", "-e", "+E", " f",
            " g", " h",
        ])
    }

    @Test func aNewFileIsAllAdditions() {
        let lines = UnifiedDiff.lines(
            old: [], new: Array("one\ntwo\n".utf8), oldName: "x", newName: "x")
        #expect(lines == ["--- x", "+++ x (new)", "@@ -0,0 +1,2 @@", "+one", "+two"])
    }

    @Test func binaryContentIsNamedNotShown() {
        let lines = UnifiedDiff.lines(old: [0, 1], new: [2], oldName: "x", newName: "x")
        #expect(lines == ["Binary files x and x differ"])
    }
}

@Suite struct RunIdentityTests {
    @Test func aRunIDIsATimestampAndAShortSuffix() {
        let date = Date(timeIntervalSince1970: 1_796_320_201)
        let id = RunIdentity.makeID(at: date)
        #expect(id.hasPrefix("20261203T175001Z-"))
        #expect(id.count == "20261203T175001Z-3fa2".count)
    }

    @Test func exitCodesFollowThePrecedenceOfTheProduct() {
        let order: [ExitClass] = [.success, .stepFailed, .timedOut, .unreachable, .badInput,
                                  .interrupted]
        #expect(order.sorted() == order)
        #expect([ExitClass.stepFailed, .timedOut, .unreachable].max() == .unreachable)
    }
}
