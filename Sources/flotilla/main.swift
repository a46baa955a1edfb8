import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// A reader that goes away (`flotilla run … | head`) must not kill a run halfway: writes to
// it fail quietly instead, and the run finishes and cleans up on every host.
signal(SIGPIPE, SIG_IGN)

#if canImport(Glibc)
// One malloc arena for every thread: the event loops and Swift's pool otherwise each grow
// their own, and with hundreds of hosts the freed space of one cannot serve the others
// (about 10 MB at 500 hosts). Set before any other thread starts. `mallopt` is glibc's and
// not in Swift's view of it, so it is looked up; M_ARENA_MAX is -8 in <malloc.h>.
if let program = dlopen(nil, RTLD_NOW), let symbol = dlsym(program, "mallopt") {
    typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    _ = unsafeBitCast(symbol, to: Mallopt.self)(-8, 1)
}
#endif

let code = await Flotilla.main(
    Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
exit(code)
