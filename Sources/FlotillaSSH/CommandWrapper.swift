import FlotillaSupport
internal import CCrypto

/// Wraps a command so its process group and its exit status reach Flotilla reliably.
///
/// libssh2 1.10 cannot send signals over a channel, and it reports status 0 when a channel
/// closes without any status. So the login shell first prints a line with a random marker
/// and its pid (sshd made it a session and process-group leader: killing that group ends the
/// command and its children), runs the command in a subshell, and prints the marker with `$?`
/// at the very end of stdout. Both lines are removed from the output before anyone sees it.
struct CommandWrapper {
    let marker: String
    let script: String

    init(command: String) {
        var random = [UInt8](repeating: 0, count: 12)
        if RAND_bytes(&random, Int32(random.count)) != 1 {
            random = (0..<12).map { _ in UInt8.random(in: 0...255) }
        }
        marker = "flotilla-" + random.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        script = """
            printf '%s:pid:%s\\n' '\(marker)' "$$"
            (
            \(command)
            )
            printf '%s:rc:%s\\n' '\(marker)' "$?"
            """
    }
}

/// Removes the wrapper's two lines from stdout as it streams by, passing every other byte
/// through untouched and in order.
struct MarkedOutput {
    private let header: [UInt8]
    private let trailer: [UInt8]
    private var headerDone = false
    private var pending: [UInt8] = []
    /// The process group of the remote command, once its first line arrived.
    private(set) var processGroup: Int32?
    /// `$?` of the command, when the wrapper lived to print it.
    private(set) var exitCode: Int32?

    init(marker: String) {
        header = Array("\(marker):pid:".utf8)
        trailer = Array("\(marker):rc:".utf8)
    }

    /// The trailer line is at most this long: held back until the stream ends.
    private var holdBack: Int { trailer.count + 4 }

    /// Takes a chunk of stdout; returns the bytes that may be shown now.
    mutating func consume(_ bytes: [UInt8]) -> [UInt8] {
        pending.append(contentsOf: bytes)
        var shown: [UInt8] = []
        if !headerDone {
            guard let found = findHeader() else {
                // Something printed a lot before the wrapper ran: give up on the pid.
                if pending.count > 65_536 { headerDone = true } else { return [] }
                return emitAllButTail()
            }
            shown.append(contentsOf: pending[..<found.start])
            pending.removeSubrange(..<found.end)
            processGroup = found.pid
            headerDone = true
        }
        shown.append(contentsOf: emitAllButTail())
        return shown
    }

    /// At the end of stdout: removes the trailer and returns the last bytes to show.
    mutating func finish() -> [UInt8] {
        if !headerDone, let found = findHeader() {
            processGroup = found.pid
            pending.removeSubrange(found.start..<found.end)
        }
        headerDone = true
        guard pending.last == UInt8(ascii: "\n"),
            let start = lastRange(of: trailer, in: pending)
        else {
            defer { pending = [] }
            return pending
        }
        let digits = pending[(start + trailer.count)..<(pending.count - 1)]
        if !digits.isEmpty, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }), digits.count <= 3 {
            exitCode = Int32(String(decoding: digits, as: UTF8.self))
            let shown = Array(pending[..<start])
            pending = []
            return shown
        }
        defer { pending = [] }
        return pending
    }

    /// Bytes not yet shown (when the command is abandoned).
    mutating func flush() -> [UInt8] {
        defer { pending = [] }
        return pending
    }

    private mutating func emitAllButTail() -> [UInt8] {
        guard pending.count > holdBack else { return [] }
        let cut = pending.count - holdBack
        let shown = Array(pending[..<cut])
        pending.removeSubrange(..<cut)
        return shown
    }

    private func findHeader() -> (start: Int, end: Int, pid: Int32)? {
        guard let start = pending.firstOffset(of: header) else { return nil }
        var index = start + header.count
        var pid: Int32 = 0
        while index < pending.count, pending[index] >= 48, pending[index] <= 57 {
            pid = pid &* 10 &+ Int32(pending[index] - 48)
            index += 1
        }
        guard index < pending.count, pending[index] == UInt8(ascii: "\n"),
            index > start + header.count
        else { return nil }
        return (start, index + 1, pid)
    }

    private func lastRange(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in stride(from: haystack.count - needle.count, through: 0, by: -1)
        where haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
