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
    func line(_ text: String) -> LineSplitter.Piece {
        LineSplitter.Piece(bytes: Array(text.utf8), endsLine: true, startsLine: true)
    }

    @Test func aLineSplitAcrossChunksComesOutWhole() {
        var splitter = LineSplitter()
        #expect(splitter.feed(Array("li".utf8)).isEmpty)
        #expect(splitter.feed(Array("ne1\nline2\r\nta".utf8)) == [line("line1"), line("line2")])
        #expect(splitter.finish()
            == LineSplitter.Piece(bytes: Array("ta".utf8), endsLine: false, startsLine: true))
        #expect(splitter.finish() == nil)
    }

    @Test func aLineLongerThanTheLimitComesInPiecesThatKeepEveryByte() {
        var splitter = LineSplitter(limit: 10)
        var pieces: [LineSplitter.Piece] = []
        for chunk in ["0123456", "789abcdefghij", "klmnopqrstuvwxy\nnext\n"] {
            pieces += splitter.feed(Array(chunk.utf8))
        }
        #expect(pieces.map { String(decoding: $0.bytes, as: UTF8.self) }
            == ["0123456789", "abcdefghij", "klmnopqrst", "uvwxy", "next"])
        #expect(pieces.map(\.endsLine) == [false, false, false, true, true])
        #expect(pieces.map(\.startsLine) == [true, false, false, false, true])
    }

    @Test func aLongLineIsNeverCutInsideASecret() {
        let secret = "Sekret-42"
        let redactor = Redactor(secrets: [secret])
        // The secret at every offset around the first cut: the pieces, redacted apart, never
        // show a part of it (its longest form, base64, is 12 bytes).
        for offset in 0..<40 {
            var splitter = LineSplitter(limit: 30, redactor: redactor)
            let text = String(repeating: "x", count: offset) + secret
                + String(repeating: "y", count: 40)
            let pieces = splitter.feed(Array(text.utf8)) + [splitter.finish()].compactMap { $0 }
            #expect(pieces.count > 1 && pieces.allSatisfy { $0.bytes.count <= 30 })
            #expect(pieces.flatMap(\.bytes) == Array(text.utf8))
            let shown = pieces.map { redactor.redact($0.bytes) }.flatMap { $0 }
            #expect(shown == redactor.redact(Array(text.utf8)), "secret at \(offset)")
        }
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
