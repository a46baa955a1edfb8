import FoundationEssentials

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// A reader that goes away (`flotilla run … | head`) must not kill a run halfway: writes to
// it fail quietly instead, and the run finishes and cleans up on every host.
signal(SIGPIPE, SIG_IGN)

let code = await Flotilla.main(
    Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment)
exit(code)
