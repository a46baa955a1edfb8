// A failed file operation's own description is a dump of its fields; messages quote the
// system's reason instead.

import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension Error {
    /// For a failed file operation, the system's reason in words ("Permission denied");
    /// for any other error, its description.
    package var systemReason: String {
        if let error = self as? CocoaError, let cause = error.underlying as? POSIXError {
            return String(cString: strerror(cause.code.rawValue))
        }
        return "\(self)"
    }
}
