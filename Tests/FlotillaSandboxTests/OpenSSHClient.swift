// Reaching sandbox hosts with OpenSSH's own client, the reference the fleet must satisfy.

import Foundation
import Testing

@testable import FlotillaSandbox

struct ProgramResult {
    var status: Int32
    var output: String
}

func sshArguments(_ fleet: SandboxFleet, _ host: SandboxHost, _ command: String) -> [String] {
    [
        "-i", fleet.identityFile, "-o", "UserKnownHostsFile=\(fleet.knownHostsFile)",
        "-o", "GlobalKnownHostsFile=/dev/null", "-o", "StrictHostKeyChecking=yes",
        "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=60",
        "-F", "/dev/null", "-p", "\(host.port)", "\(host.user)@\(host.address)", command,
    ]
}

/// Runs `command` on the host with strict host key checking and returns its output. The
/// client is waited for on a thread of its own, not on Swift's small concurrency pool.
func ssh(_ fleet: SandboxFleet, _ host: SandboxHost, _ command: String) async throws
    -> ProgramResult
{
    let arguments = sshArguments(fleet, host, command)
    return try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh")
            process.arguments = arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            process.standardInput = FileHandle.nullDevice
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
                return
            }
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            continuation.resume(returning: ProgramResult(
                status: process.terminationStatus,
                output: String(decoding: data, as: UTF8.self)))
        }
    }
}

/// Starts a long session in the background.
func startSSH(_ fleet: SandboxFleet, _ host: SandboxHost, _ command: String) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh")
    process.arguments = sshArguments(fleet, host, command)
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    return process
}

struct NoBanner: Error {}

/// The first line a server sends on `port`.
func banner(port: Int) throws -> String {
    let handle = try connectLoopback(port: port)
    defer { close(handle) }
    var line: [UInt8] = []
    var byte: UInt8 = 0
    while line.count < 256, read(handle, &byte, 1) == 1, byte != UInt8(ascii: "\n") {
        line.append(byte)
    }
    guard !line.isEmpty else { throw NoBanner() }
    return String(decoding: line, as: UTF8.self)
}

private func connectLoopback(port: Int) throws -> Int32 {
    let handle = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr = in_addr(s_addr: in_addr_t(0x7f00_0001).bigEndian)
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(handle, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(handle, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard result == 0 else {
        close(handle)
        throw NoBanner()
    }
    return handle
}

/// Pids of running processes whose command line mentions `text`.
func processes(mentioning text: String) -> [pid_t] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { pid_t($0) }.filter { pid in
        pid != getpid() && (ProcessTable.commandLine(of: pid)?.contains(text) ?? false)
    }
}
