/// The last lines each host printed in its current step, shown when the step fails and
/// command output is not streamed.
struct RecentOutput: Sendable {
    static let limit = 20

    private var lines: [String: [String]] = [:]

    mutating func stepStarted(on host: String) {
        lines[host] = []
    }

    mutating func append(_ line: String, for host: String) {
        lines[host, default: []].append(line)
        if lines[host]!.count > Self.limit {
            lines[host]!.removeFirst()
        }
    }

    /// The kept lines, forgotten once taken.
    mutating func take(for host: String) -> [String] {
        lines.removeValue(forKey: host) ?? []
    }
}
