import FlotillaSSH

let arguments = CommandLine.arguments.dropFirst()
if arguments.first == "version" {
    print("flotilla 0.1.0 (libssh2 \(libssh2RuntimeVersion))")
}
