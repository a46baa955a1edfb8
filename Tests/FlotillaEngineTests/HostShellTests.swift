// A host's steps run in one long-lived shell over one channel, yet each keeps what a step of
// its own session would have: its exit status, its streams, no stdin; and a shell that dies
// under a step leaves that step unknown, never successful, and the cleanup still done.

import FlotillaConfig
import Foundation
import Testing

@testable import FlotillaEngine

@Suite(.serialized) struct HostShellTests {
    /// A `run` script's bash is the step's job itself, so its `$PPID` is the shell that
    /// started the job: the same for every step when they share the host's shell.
    @Test func everyStepOfAHostRunsInTheSameShellWithItsOwnStatusAndStreams() async throws {
        // A UTF-8 locale, as most servers have: bash then counts characters, not bytes,
        // unless told otherwise.
        try await SandboxRun.with(
            prefix: "hs-", count: 2, serverConfig: "SetEnv LANG=C.UTF-8 LC_ALL=C.UTF-8"
        ) { sandbox in
            let sink = EventLog()
            let outcome = try await sandbox.run("""
                name: shared shell
                hosts: all
                stages:
                  - name: one
                    steps:
                      - name: first
                        run: echo "shell $PPID"
                      - name: reads stdin
                        run: cat; echo "after cat"
                      - name: no newline
                        run: printf 'partial'; printf 'err-partial' >&2
                      - name: fails softly
                        run: exit 3
                        ignore_errors: true
                      # Programs are sent with their length in bytes: text of several
                      # bytes per character must not put the shell out of step.
                      - name: wide text
                        run: echo "größe ✓ 日本 $GREETING"
                        env: { GREETING: "héllo wörld" }
                  - name: two
                    steps:
                      - name: last
                        run: echo "shell $PPID"; echo oops >&2
                """, sink: sink)

            #expect(outcome.exitCode == 0)
            for host in sandbox.names {
                let lines = sink.output(of: host)
                let shells = lines.filter { $0.hasPrefix("shell ") }
                #expect(shells.count == 2 && shells[0] == shells[1], "\(lines)")
                #expect(lines.contains("after cat"))
                #expect(lines.contains("partial") && lines.contains("err-partial"), "\(lines)")
                #expect(lines.contains("oops"))
                #expect(lines.contains("größe ✓ 日本 héllo wörld"), "\(lines)")
                #expect(!lines.contains { $0.contains("@@FL-") }, "\(lines)")
            }
            let steps = try #require(outcome.record?.hosts[0].stages[0].steps)
            #expect(steps.map(\.exitStatus)
                == ["exited(0)", "exited(0)", "exited(0)", "exited(3)", "exited(0)"])
        }
    }

    /// A host whose bash cannot read a program by its length (`read -N`, bash 4.1 and later)
    /// still runs every step, each on a session of its own. The stand-in `bash` first on
    /// PATH refuses `-N` as such a bash would and passes everything else to the real one.
    @Test func aBashWithoutReadNRunsEveryStepOnSessionsOfItsOwn() async throws {
        let bin = FileManager.default.temporaryDirectory
            .appendingPathComponent("flotilla-old-bash-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(
            atPath: bin, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])
        defer { try? FileManager.default.removeItem(atPath: bin) }
        let standIn = """
            #!/bin/bash
            if [ "$1" = -c ]; then
                case $2 in *"read -r -N"*) set -- -c "${2//read -r -N/read -r -Z}" ;; esac
            fi
            exec /bin/bash "$@"

            """
        FileManager.default.createFile(
            atPath: bin + "/bash", contents: Data(standIn.utf8),
            attributes: [.posixPermissions: 0o755])
        try await SandboxRun.with(
            prefix: "hb-", count: 1, serverConfig: "SetEnv PATH=\(bin):/usr/bin:/bin"
        ) { sandbox in
            let sink = EventLog()
            let outcome = try await sandbox.run("""
                name: old bash
                hosts: all
                stages:
                  - name: one
                    steps:
                      - run: echo "first $PATH"; echo "parent $PPID"
                      - run: echo second; exit 4
                        ignore_errors: true
                      - run: echo "parent $PPID"
                      # Jobs that end at once: bash must not report them ("[1]+ Exit 5").
                      - { run: exit 5, ignore_errors: true }
                      - { run: exit 5, ignore_errors: true }
                      - { run: exit 5, ignore_errors: true }
                      - { run: exit 5, ignore_errors: true }
                """, sink: sink)
            #expect(outcome.exitCode == 0)
            let lines = sink.output(of: "hb-1")
            #expect(lines.count == 4 && lines[0] == "first \(bin):/usr/bin:/bin"
                && lines[2] == "second", "\(lines)")
            // Each step had a bash of its own, under a session of its own.
            let parents = lines.filter { $0.hasPrefix("parent ") }
            #expect(parents.count == 2 && parents[0] != parents[1], "\(lines)")
            let steps = try #require(outcome.record?.hosts[0].stages[0].steps)
            #expect(steps.map(\.exitStatus)
                == ["exited(0)", "exited(4)", "exited(0)"] + Array(repeating: "exited(5)", count: 4))
            #expect(!FileManager.default.fileExists(
                atPath: sandbox.home("hb-1") + "/.flotilla/lock"))
        }
    }

    /// A `run` script is evaluated in its job's shell, without a bash of its own, unless it
    /// asks who it is: either way it sees none of the host shell's variables, its `$$` is
    /// its own, and a failure names the script's own line.
    @Test func aScriptSeesNoneOfTheShellsVariablesAndNamesItsOwnFailingLine() async throws {
        try await SandboxRun.with(prefix: "hv-", count: 1) { sandbox in
            let sink = EventLog()
            let outcome = try await sandbox.run("""
                name: variables
                hosts: all
                stages:
                  - name: one
                    steps:
                      - name: clean
                        run: echo "vars:${i+i}${m+m}${n+n}${p+p}${j+j}${r+r}${w+w}."
                      - name: own pid
                        run: echo "pid $$ $BASHPID"
                      - name: in a function
                        run: |
                          f() {
                            false
                          }
                          echo before
                          f
                          echo after
                """, sink: sink)

            #expect(outcome.exitCode == 1)
            let lines = sink.output(of: "hv-1")
            #expect(lines.contains("vars:."), "\(lines)")
            let pid = lines.first { $0.hasPrefix("pid ") }?.split(separator: " ")
            #expect(pid?.count == 3 && pid?[1] == pid?[2], "\(lines)")
            #expect(lines.contains("before") && !lines.contains("after"), "\(lines)")
            #expect(outcome.summaries[0].failure == "in a function: line 2 failed (exit 1): false")
        }
    }

    @Test func aShellKilledUnderAStepLeavesItUnknownAndTheLockIsStillReleased()
        async throws
    {
        try await SandboxRun.with(prefix: "hk-", count: 1) { sandbox in
            let outcome = try await sandbox.run("""
                name: killed shell
                hosts: all
                stages:
                  - name: one
                    steps:
                      - name: kill the shell
                        run: kill -KILL $PPID; sleep 1
                      - name: later
                        run: echo still here > ~/later
                """)

            let steps = try #require(outcome.record?.hosts[0].stages[0].steps)
            #expect(steps.first?.exitStatus == "unknown", "\(steps)")
            // Field report R24: never taken for success, and said so.
            #expect(steps.first?.status == .failed)
            #expect(steps.first?.message == "exit status not reported by hk-1 (channel closed"
                + " early); the command's outcome is unknown")
            #expect(outcome.exitCode == 1)
            // A step whose fate is unknown stops the host, as any failed step does.
            #expect(read(sandbox.home("hk-1") + "/later") == nil)
            #expect(!FileManager.default.fileExists(
                atPath: sandbox.home("hk-1") + "/.flotilla/lock"))
        }
    }
}
