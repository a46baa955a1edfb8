import Testing

@testable import flotilla

@Suite struct StringPaddingTests {
    static let cases: [(text: String, length: Int, padded: String)] = [
        ("web-1", 8, "web-1   "),
        ("web-1", 5, "web-1"),
        ("database-primary", 8, "database"),
        ("", 2, "  "),
        ("é", 3, "é  "),
        ("🚀x", 4, "🚀x "),
        ("🚀x", 2, "🚀"),
        ("🚀", 1, "\u{FFFD}"),
    ]

    @Test(arguments: cases)
    func textIsPaddedOrCutToALengthInUTF16Units(
        _ text: String, _ length: Int, _ padded: String
    ) {
        #expect(text.padded(toLength: length) == padded)
    }
}
