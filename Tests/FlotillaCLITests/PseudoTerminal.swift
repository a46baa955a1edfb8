import Foundation

/// A real pseudo-terminal: the program writes to `follower` (a tty for isatty and
/// TIOCGWINSZ) and the test reads everything that arrives on the leader side.
final class PseudoTerminal: @unchecked Sendable {
    let leader: Int32
    let follower: Int32
    private let received = ReceivedBox()

    init(columns: UInt16 = 100, rows: UInt16 = 30) throws {
        // posix_openpt and friends are not visible from Swift, so their Linux ioctls:
        // TIOCSPTLCK (unlock the follower) and TIOCGPTN (its number).
        let TIOCSPTLCK: UInt = 0x4004_5431
        let TIOCGPTN: UInt = 0x8004_5430
        leader = open("/dev/ptmx", O_RDWR | O_NOCTTY)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        guard leader >= 0, ioctl(leader, TIOCSPTLCK, &unlock) == 0,
            ioctl(leader, TIOCGPTN, &number) == 0
        else { throw POSIXError(.ENXIO) }
        follower = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
        guard follower >= 0 else { throw POSIXError(.ENXIO) }
        var size = winsize(ws_row: rows, ws_col: columns, ws_xpixel: 0, ws_ypixel: 0)
        _ = ioctl(leader, UInt(TIOCSWINSZ), &size)

        // Reads until the leader is closed.
        let leader = self.leader
        let received = self.received
        Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = read(leader, &buffer, buffer.count)
                if count <= 0 { break }
                received.append(Array(buffer[0..<count]))
            }
        }.start()
    }

    /// Everything written so far, as text.
    var text: String {
        received.text
    }

    func close() {
        Foundation.close(follower)
        Foundation.close(leader)
    }
}

private final class ReceivedBox: @unchecked Sendable {
    private let lock = NSLock()
    private var bytes: [UInt8] = []

    func append(_ more: [UInt8]) {
        lock.withLock { bytes += more }
    }

    var text: String {
        lock.withLock { String(decoding: bytes, as: UTF8.self) }
    }
}
