// A file opened to append to: a host's log in the run folder, or GitHub's step summary.

#if canImport(Glibc)
import Glibc
#endif

/// Owns one descriptor, opened to append, and closes it when released.
package final class AppendingFile: Sendable {
    private let fileDescriptor: Int32

    /// Opens an existing file; nil when it is missing or cannot be written.
    package init?(path: String) {
        let fileDescriptor = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard fileDescriptor >= 0 else { return nil }
        self.fileDescriptor = fileDescriptor
    }

    deinit {
        close(fileDescriptor)
    }

    /// Writes all of `bytes`, in as many parts as the system takes.
    package func write(_ bytes: [UInt8]) {
        Self.write(bytes, to: fileDescriptor)
    }

    /// Writes all of `bytes` to any descriptor, standard output included. An error (a full
    /// disk, a reader that went away as in `flotilla run … | head`) drops the rest quietly:
    /// output that cannot be written must not stop a run.
    package static func write(_ bytes: [UInt8], to fileDescriptor: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(
                    fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}
