// Hundreds of sessions progress together on a few threads.

import Foundation
import Synchronization
import Testing

@testable import FlotillaSSH

@Suite("Concurrency")
struct ConcurrencySessionsTests {
    @Test("200 sessions (20 servers × 10) each running 5 commands complete together")
    func manySessionsOverlap() async throws {
        try await withFleet(count: 20) { fleet in
            let timeline = Timeline()
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for host in fleet.hosts {
                    for slot in 0..<10 {
                        group.addTask {
                            // 200 handshakes at once on a shared two-core machine.
                            var options = connectOptions(fleet, host)
                            options.connectTimeout = .seconds(60)
                            options.handshakeTimeout = .seconds(90)
                            let session = try await Session.connect(options)
                            do {
                                for step in 0..<5 {
                                    let begin = ContinuousClock.now
                                    let result = try await run(
                                        session, "sleep 0.5; echo \(slot)-\(step)")
                                    #expect(result.stdout == "\(slot)-\(step)\n")
                                    #expect(result.status == .exited(0))
                                    timeline.add(begin, ContinuousClock.now)
                                }
                            } catch {
                                await session.close()
                                throw error
                            }
                            await session.close()
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = ContinuousClock.now - started
            #expect(timeline.count == 1000)
            // One by one this is 500 s of sleeping alone; together it is a few seconds.
            #expect(elapsed < .seconds(120))
            // One by one, one would run at a time. How many overlap depends on how fast the
            // machine gets through 200 handshakes, so the bound is far from both.
            #expect(timeline.peakOverlap > 50, "at most \(timeline.peakOverlap) ran at once")
        }
    }

    @Test("Commands on one session run concurrently over separate channels")
    func channelsOnOneSession() async throws {
        try await withFleet { fleet in
            try await withSession(fleet) { (session: Session) async throws in
                let timeline = Timeline()
                try await withThrowingTaskGroup(of: String.self) { group in
                    for index in 0..<8 {
                        group.addTask {
                            let begin = ContinuousClock.now
                            let stdout = try await run(
                                session, "sleep 1; head -c 300000 /dev/zero; echo \(index)"
                            ).stdout
                            timeline.add(begin, ContinuousClock.now)
                            return stdout
                        }
                    }
                    var count = 0
                    for try await stdout in group {
                        #expect(stdout.utf8.count == 300_002)
                        count += 1
                    }
                    #expect(count == 8)
                }
                #expect(timeline.peakOverlap >= 4, "at most \(timeline.peakOverlap) at once")
            }
        }
    }
}

/// Start and end of every command, to measure how many ran at the same time.
final class Timeline: Sendable {
    private let spans = Mutex<[(ContinuousClock.Instant, ContinuousClock.Instant)]>([])

    func add(_ start: ContinuousClock.Instant, _ end: ContinuousClock.Instant) {
        spans.withLock { $0.append((start, end)) }
    }

    var count: Int { spans.withLock { $0.count } }

    var peakOverlap: Int {
        typealias Event = (at: ContinuousClock.Instant, change: Int)
        let spans = self.spans.withLock { $0 }
        var events: [Event] = []
        for (start, end) in spans {
            events.append((start, 1))
            events.append((end, -1))
        }
        // Ends before starts at the same instant: touching spans do not overlap.
        events.sort { $0.at < $1.at || ($0.at == $1.at && $0.change < $1.change) }
        var running = 0
        var peak = 0
        for (_, change) in events {
            running += change
            peak = max(peak, running)
        }
        return peak
    }
}
