/// Counts as people write them: "1 host", "3 hosts".
enum Plural {
    static func count(_ number: Int, _ noun: String) -> String {
        "\(number) \(noun)\(number == 1 ? "" : "s")"
    }
}
