// A spawned program reacts to signals as it normally would, whatever this process blocks or
// ignores (a run ignores SIGPIPE, SIGINT and SIGTERM while it cleans up; a test runner may
// block others).

#if canImport(Glibc)
import Glibc
#endif

/// Sets `attributes` so the program starts with no blocked signal and every signal at its
/// default action; returns the spawn flags that make it so, to add to the caller's own.
package func defaultSignals(_ attributes: inout posix_spawnattr_t) -> Int32 {
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    var allSignals = sigset_t()
    sigfillset(&allSignals)
    posix_spawnattr_setsigdefault(&attributes, &allSignals)
    return Int32(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
}
