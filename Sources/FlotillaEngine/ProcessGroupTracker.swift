// The process group of the step running on a host, known from the remote program's marker
// while the step runs, so an interrupt can end it and all its children.

import Synchronization

final class ProcessGroupTracker: Sendable {
    struct Running: Sendable {
        var group: Int
        var become: Bool
    }

    private let current = Mutex<Running?>(nil)

    func set(_ group: Int, become: Bool) {
        current.withLock { $0 = Running(group: group, become: become) }
    }

    func clear() {
        current.withLock { $0 = nil }
    }

    func take() -> Running? {
        current.withLock { value in
            defer { value = nil }
            return value
        }
    }
}
