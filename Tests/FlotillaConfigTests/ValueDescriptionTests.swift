import Testing
@testable import FlotillaConfig

@Suite struct ValueDescriptionTests {
    @Test func variablesAreShownAsYAMLWouldReadThemBack() {
        let value = Value.map([
            "dir": .string("/srv/app"), "url": .string("http://x"), "list": .list([.string("a")]),
            "empty": .string(""), "multi": .string("a\nb \"c\""),
        ])
        #expect(
            value.description
                == #"{ dir: /srv/app, empty: "", list: [a], multi: "a\nb \"c\"", url: "http://x" }"#
        )
    }
}
