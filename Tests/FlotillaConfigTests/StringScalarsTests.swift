import FlotillaSupport
import Testing

@testable import FlotillaConfig

@Suite struct StringScalarsTests {
    @Test func blanksAreSpacesOfEveryWidthAndTabsButNotLineBreaks() {
        #expect("\u{200B}\u{A0}\t web-1 \u{3000}".trimmingBlanks() == "web-1")
        #expect("\n web-1 \r\n".trimmingBlanks() == "\n web-1 \r\n")
        #expect(" \t ".trimmingBlanks() == "")
    }

    @Test func whitespaceIncludesEveryKindOfLineBreak() {
        #expect("\r\n\u{85}\u{2028} key \u{2029}\u{B}\u{C}".trimmingWhitespace() == "key")
        #expect("a\r\n".trimming(while: \.isLineBreak) == "a")
    }

    @Test func trimmingKeepsACombiningMarkThatFollowsATrimmedSpace() {
        #expect(" \u{301}x ".trimmingBlanks() == "\u{301}x")
    }

    @Test func replacingFindsALineFeedInsideACarriageReturnPair() {
        #expect("a\r\nb".replacingEvery("\n", with: "%0A") == "a\r%0Ab")
        #expect("a\r\nb".replacingEvery("\r\n", with: "\n") == "a\nb")
    }

    @Test func replacingFindsAQuoteFollowedByACombiningMark() {
        #expect("'\u{301}".replacingEvery("'", with: "'\\''") == "'\\''\u{301}")
    }
}
