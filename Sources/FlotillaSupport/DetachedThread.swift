// Threads of their own for work that must never block Swift's cooperative pool: the event
// loops, getaddrinfo, and starting and stopping the sandbox's servers.

#if canImport(Glibc)
import Glibc
#endif

package enum DetachedThread {
    /// Starts `body` on a new thread, named `name` if given (at most 15 bytes are kept, the
    /// kernel's limit) or else after the process.
    package static func start(name: String? = nil, _ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(Body(name: name, run: body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(
            &thread, nil,
            { context in
                let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
                body.nameCurrentThread()
                body.run()
                return nil
            }, context)
        precondition(result == 0, "cannot start a thread: error \(result)")
        pthread_detach(thread)
    }

    private final class Body {
        let name: String?
        let run: @Sendable () -> Void

        init(name: String?, run: @escaping @Sendable () -> Void) {
            self.name = name
            self.run = run
        }

        /// pthread_setname_np is a GNU extension hidden from Swift; the kernel takes the
        /// name from this file as well. Debuggers, backtraces and `top -H` show it.
        func nameCurrentThread() {
            guard let name else { return }
            let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { return }
            let bytes = Array(name.utf8.prefix(15))
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
    }
}
