// swift-tools-version:6.0
import PackageDescription

// An async function that belongs to no actor runs where its caller runs, so a host's work
// stays on its session's thread instead of crossing to Swift's pool and back at every call.
let callerExecutor: [SwiftSetting] = [.enableUpcomingFeature("NonisolatedNonsendingByDefault")]

let package = Package(
    name: "flotilla",
    products: [
        .executable(name: "flotilla", targets: ["flotilla"]),
    ],
    targets: [
        // C libraries from Debian, found through pkg-config.
        .systemLibrary(
            name: "CLibSSH2", pkgConfig: "libssh2", providers: [.apt(["libssh2-1-dev"])]),
        .systemLibrary(
            name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        .systemLibrary(
            name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),

        // Small helpers every module needs and the standard library lacks: scalar-wise
        // trimming and replacing, threads of their own, spawning with default signals.
        .target(name: "FlotillaSupport"),
        // The only importer of libssh2: sessions, exec, SFTP, host keys, identities.
        .target(
            name: "FlotillaSSH", dependencies: ["FlotillaSupport", "CLibSSH2", "CCrypto"],
            swiftSettings: callerExecutor),
        // The only importer of libyaml: inventory, playbooks, patterns, templates, secrets.
        .target(name: "FlotillaConfig", dependencies: ["FlotillaSupport", "CYAML"]),
        // From a loaded playbook and inventory to a finished run.
        .target(
            name: "FlotillaEngine",
            dependencies: ["FlotillaSupport", "FlotillaConfig", "FlotillaSSH", "CCrypto"],
            swiftSettings: callerExecutor),
        // The local fleet of real sshd servers.
        .target(name: "FlotillaSandbox", dependencies: ["FlotillaSupport"]),
        // The executable: argument parsing, commands, outputs. Release builds carry the Swift
        // runtime inside the binary, which saves about 3.5 MB of memory per run and leaves
        // only the C libraries (libssh2, libyaml, OpenSSL) to come from the system. With the
        // runtime linked in, FoundationEssentials' two helper libraries must be named; the
        // `--static-swift-stdlib` option would find them by itself.
        .executableTarget(
            name: "flotilla",
            dependencies: [
                "FlotillaSupport", "FlotillaEngine", "FlotillaConfig", "FlotillaSSH",
                "FlotillaSandbox",
            ],
            linkerSettings: [
                .unsafeFlags(["-static-stdlib"], .when(configuration: .release)),
                .linkedLibrary("_FoundationCShims", .when(configuration: .release)),
                .linkedLibrary("_FoundationCollections", .when(configuration: .release)),
            ]),

        .testTarget(name: "FlotillaSSHTests", dependencies: ["FlotillaSSH", "FlotillaSandbox"]),
        .testTarget(
            name: "FlotillaConfigTests", dependencies: ["FlotillaConfig", "FlotillaSupport"],
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "FlotillaEngineTests",
            dependencies: ["FlotillaEngine", "FlotillaConfig", "FlotillaSSH", "FlotillaSandbox"]),
        .testTarget(name: "FlotillaSandboxTests", dependencies: ["FlotillaSandbox"]),
        .testTarget(
            name: "FlotillaCLITests", dependencies: ["flotilla", "FlotillaSandbox"],
            resources: [.copy("Rehearsal")]),
    ]
)
