// The address of a host as written in an inventory: a name, an IPv4 address, or an IPv6
// address with or without brackets. IPv6 is stored without brackets, and a bare IPv6
// literal is never split at its last colon (R10): `2001:db8::10:2222` is an address.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct HostAddress: Sendable, Hashable {
    var host: String
    /// A port written in the address itself (`[2001:db8::10]:2222`, `web.example:2222`).
    var port: Int?

    struct Problem: Error {
        var message: String
    }

    /// The address and, for an ambiguous bare IPv6 literal, a warning to show.
    static func parse(_ text: String) -> Result<(HostAddress, warning: String?), Problem> {
        if text.isEmpty { return .failure(Problem(message: "the address is empty")) }
        if text.contains("%") {
            return .failure(Problem(
                message: "'\(text)': addresses with a zone (%interface) are not supported; "
                    + "use a global or unique-local IPv6 address"))
        }
        if text.hasPrefix("[") { return parseBracketed(text) }

        let colons = text.filter { $0 == ":" }.count
        if colons >= 2 {
            guard isIPv6(text) else {
                return .failure(Problem(message: "'\(text)' is not a valid IPv6 address"))
            }
            return .success((HostAddress(host: text, port: nil), ambiguityWarning(text)))
        }
        if colons == 1 {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard let port = Int(parts[1]), (1...65535).contains(port) else {
                return .failure(Problem(
                    message: "'\(text)': the part after ':' must be a port from 1 to 65535"))
            }
            return checkName(String(parts[0])).map { (HostAddress(host: $0, port: port), nil) }
        }
        return checkName(text).map { (HostAddress(host: $0, port: nil), nil) }
    }

    private static func parseBracketed(
        _ text: String
    ) -> Result<(HostAddress, warning: String?), Problem> {
        guard let close = text.firstIndex(of: "]") else {
            return .failure(Problem(message: "'\(text)' has '[' without a closing ']'"))
        }
        let inner = String(text[text.index(after: text.startIndex)..<close])
        guard isIPv6(inner) else {
            return .failure(Problem(message: "'\(inner)' is not a valid IPv6 address"))
        }
        let rest = text[text.index(after: close)...]
        if rest.isEmpty { return .success((HostAddress(host: inner, port: nil), nil)) }
        guard rest.hasPrefix(":"), let port = Int(rest.dropFirst()), (1...65535).contains(port)
        else {
            return .failure(Problem(
                message: "'\(text)': after ']' only ':PORT' may follow, with a port from 1 "
                    + "to 65535"))
        }
        return .success((HostAddress(host: inner, port: port), nil))
    }

    /// `2001:db8::10:2222` is a valid address, but it looks like an address and a port.
    private static func ambiguityWarning(_ text: String) -> String? {
        guard let last = text.lastIndex(of: ":") else { return nil }
        let tail = text[text.index(after: last)...]
        let head = String(text[..<last])
        guard !tail.isEmpty, tail.allSatisfy(\.isNumber), isIPv6(head), text.contains("::")
        else { return nil }
        return "'\(text)' is read as one IPv6 address with port 22; to give a port, write "
            + "'[\(head)]:\(tail)'"
    }

    private static func checkName(_ name: String) -> Result<String, Problem> {
        let looksNumeric = name.allSatisfy { $0.isNumber || $0 == "." }
        if looksNumeric {
            return isIPv4(name)
                ? .success(name)
                : .failure(Problem(message: "'\(name)' is not a valid IPv4 address"))
        }
        let allowed = name.allSatisfy {
            $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "." || $0 == "_")
        }
        guard allowed, !name.hasPrefix("-"), !name.hasPrefix(".") else {
            return .failure(Problem(
                message: "'\(name)' is not a host name, an IPv4 address or an IPv6 address"))
        }
        return .success(name)
    }

    static func isIPv6(_ text: String) -> Bool {
        var buffer = in6_addr()
        return text.withCString { inet_pton(AF_INET6, $0, &buffer) } == 1
    }

    static func isIPv4(_ text: String) -> Bool {
        var buffer = in_addr()
        return text.withCString { inet_pton(AF_INET, $0, &buffer) } == 1
    }
}
