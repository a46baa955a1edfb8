// Replaces secret values with a mask in everything the engine emits: event texts, output
// lines and log lines. Works on bytes, so output that is not UTF-8 is redacted as well.

import FlotillaSupport
import FlotillaConfig
import FoundationEssentials

struct Redactor: Sendable {
    static let mask = "********"

    /// Every form of every secret, longest first so a value that contains another is masked
    /// whole.
    private let needles: [[UInt8]]

    init(secrets: [String]) {
        var forms = Set<[UInt8]>()
        for secret in secrets where !secret.isEmpty {
            for form in Self.forms(of: secret) where !form.isEmpty {
                forms.insert(Array(form.utf8))
            }
        }
        needles = forms.sorted { $0.count > $1.count }
    }

    private init(needles: [[UInt8]]) {
        self.needles = needles
    }

    /// This redactor, also treating `bytes` as a secret: where to cut a long line, so the
    /// wrapper's marker is never split between two pieces.
    func protecting(_ bytes: [UInt8]) -> Redactor {
        Redactor(needles: (needles + [bytes]).sorted { $0.count > $1.count })
    }

    var isEmpty: Bool { needles.isEmpty }

    /// The length in bytes of the longest form of a secret.
    var longestForm: Int { needles.first?.count ?? 0 }

    func redact(_ text: String) -> String {
        guard !needles.isEmpty else { return text }
        let bytes = redact(Array(text.utf8))
        return String(decoding: bytes, as: UTF8.self)
    }

    func redact(_ bytes: [UInt8]) -> [UInt8] {
        guard !needles.isEmpty, !bytes.isEmpty else { return bytes }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count)
        var index = 0
        let mask = Array(Self.mask.utf8)
        scan: while index < bytes.count {
            for needle in needles where Self.matches(needle, in: bytes, at: index) {
                result.append(contentsOf: mask)
                index += needle.count
                continue scan
            }
            result.append(bytes[index])
            index += 1
        }
        return result
    }

    /// Where to cut `bytes`, longer than `limit`, into a first piece of at most `limit`
    /// bytes, so that the pieces redacted apart are masked as the whole would be: a place
    /// the masking scan reaches, past every secret that starts before it. `limit` must be at
    /// least `longestForm`.
    func cutPoint(_ bytes: [UInt8], limit: Int) -> Int {
        let longest = longestForm
        guard longest > 1 else { return limit }
        // Below `settled`, whether a secret starts is decided by bytes before `limit`.
        let settled = limit - (longest - 1)
        var index = 0
        scan: while index < settled {
            for needle in needles where Self.matches(needle, in: bytes, at: index) {
                index += needle.count
                continue scan
            }
            index += 1
        }
        return index
    }

    /// The value itself, its base64 (with and without padding), its URL-encoded form, and
    /// each of its lines when it has several (a line of a secret file printed alone).
    private static func forms(of secret: String) -> [String] {
        let data = Data(secret.utf8)
        let base64 = data.base64EncodedString()
        var forms = [secret, base64, base64.replacingEvery("=", with: "")]
        // A value read from a file usually ends in a newline that the output does not
        // repeat: mask the value without it too, in every form.
        let trimmed = secret.trimmingWhitespace()
        if trimmed != secret, !trimmed.isEmpty {
            let trimmedBase64 = Data(trimmed.utf8).base64EncodedString()
            forms += [trimmed, trimmedBase64, trimmedBase64.replacingEvery("=", with: "")]
        }
        forms += urlEncodedForms(of: secret)
        let lines = secret.split(whereSeparator: \.isNewline).map(String.init)
        if lines.count > 1 {
            forms += lines.filter { $0.trimmingBlanks().count >= 4 }
        }
        return forms
    }

    /// The value as a URL or a form would carry it: every byte outside the unreserved ASCII
    /// set as `%XX` (upper- and lower-case hex), and the form flavour with `+` for a space.
    private static func urlEncodedForms(of secret: String) -> [String] {
        let unreserved = Set(Array(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8))
        var upper = "", lower = "", form = ""
        for byte in secret.utf8 {
            if unreserved.contains(byte) {
                let character = String(UnicodeScalar(byte))
                upper += character
                lower += character
                form += character
                continue
            }
            let hex = String(byte, radix: 16, uppercase: true)
            let code = "%" + (hex.count == 1 ? "0" + hex : hex)
            upper += code
            lower += code.lowercased()
            form += byte == UInt8(ascii: " ") ? "+" : code
        }
        return upper == secret ? [] : [upper, lower, form]
    }

    private static func matches(_ needle: [UInt8], in bytes: [UInt8], at index: Int) -> Bool {
        guard index + needle.count <= bytes.count, bytes[index] == needle[0] else {
            return false
        }
        var offset = 1
        while offset < needle.count {
            if bytes[index + offset] != needle[offset] { return false }
            offset += 1
        }
        return true
    }
}
