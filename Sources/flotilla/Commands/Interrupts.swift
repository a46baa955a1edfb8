import Dispatch
import FlotillaEngine
import FoundationEssentials
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a run's work in a task that SIGINT and SIGTERM cancel: the first signal cancels it
/// (the engine stops starting steps, cleans up on every host and returns 130), the second
/// exits at once with 130.
enum Interrupts {
    static let message = "interrupting… (press Ctrl-C again to exit at once)"

    static func run(
        output: any RunOutput, _ work: @escaping @Sendable () async -> RunOutcome
    ) async -> RunOutcome {
        let task = Task { await work() }
        let queue = DispatchQueue(label: "flotilla.signals")
        let received = SignalCount()
        let sources = [SIGINT, SIGTERM].map { number in
            // The default handler would kill the process before the engine cleans up.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                if received.increment() == 1 {
                    output.note(message)
                    task.cancel()
                } else {
                    // At once: `exit` would run the process's teardown while the run's
                    // threads still use what it tears down, and could crash instead.
                    _exit(130)
                }
            }
            source.resume()
            return source
        }
        let outcome = await task.value
        for source in sources { source.cancel() }
        return outcome
    }
}

/// Signals seen so far; touched only on the signal queue, but counted under a lock so the
/// type is honestly Sendable.
private final class SignalCount: @unchecked Sendable {
    private let lock = Mutex(())
    private var count = 0

    func increment() -> Int {
        lock.withLock { _ in
            count += 1
            return count
        }
    }
}
