// How a host's run ended, as PRODUCT §8 counts it, and how the run's exit code is chosen
// when hosts ended differently: 130, then 2, then 3, then 4, then 1.

enum ExitClass: Int32, Sendable, Comparable {
    case success = 0
    case stepFailed = 1
    case badInput = 2
    case unreachable = 3
    case timedOut = 4
    case interrupted = 130

    /// Higher wins.
    private var precedence: Int {
        switch self {
        case .success: 0
        case .stepFailed: 1
        case .timedOut: 2
        case .unreachable: 3
        case .badInput: 4
        case .interrupted: 5
        }
    }

    static func < (lhs: ExitClass, rhs: ExitClass) -> Bool {
        lhs.precedence < rhs.precedence
    }
}
