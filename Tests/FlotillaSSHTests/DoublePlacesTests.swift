import Foundation
import Testing

@testable import FlotillaSSH

@Suite struct DoublePlacesTests {
    static let cases: [(value: Double, places: Int, text: String)] = [
        (0, 1, "0.0"),
        (1.5, 1, "1.5"),
        (0.45, 1, "0.5"),
        (1.45, 1, "1.4"),
        (0.125, 2, "0.12"),
        (0.375, 2, "0.38"),
        (2.675, 2, "2.67"),
        (1_536.0 / 1_024, 1, "1.5"),
        (12.649_999, 1, "12.6"),
        (-0.04, 1, "-0.0"),
        (1e20, 2, "100000000000000000000.00"),
    ]

    @Test(arguments: cases)
    func aNumberIsRoundedAsPrintfRoundsIt(_ value: Double, _ places: Int, _ text: String) {
        #expect(value.text(places: places) == text)
    }

    @Test func everyFractionOfASizeReadsAsFormatWroteIt() {
        for bytes in stride(from: 0, to: 3_000_000, by: 997) {
            let kibibytes = Double(bytes) / 1024
            #expect(kibibytes.text(places: 1) == String(format: "%.1f", kibibytes))
            let seconds = Double(bytes) / 1e6
            #expect(seconds.text(places: 2) == String(format: "%.2f", seconds))
        }
    }
}
