internal import CLibSSH2

/// What a channel reported when it closed.
struct ChannelExit: Sendable {
    var status: Int32
    /// The signal name without `SIG`, when the command was killed by one.
    var signal: String?
}

/// How running a channel can stop early.
enum ChannelStop: Error, Sendable {
    case interrupted(Interruption)
    case failed(SSHError)
}

extension Connection {
    /// Runs a command wrapped for its process group and exit status (see `CommandWrapper`).
    func exec(
        _ command: String, stdin: [UInt8], timeout: Duration?,
        output: @escaping @Sendable (OutputChunk) -> Void
    ) async throws(SSHError) -> ExecResult {
        let started = ContinuousClock.now
        let wrapper = CommandWrapper(command: command)
        var stdout = MarkedOutput(marker: wrapper.marker)
        let operation = makeOperation(timeout: timeout, cancellable: true)
        let exit: ChannelExit
        do {
            exit = try await runChannel(wrapper.script, stdin: stdin, operation: operation) {
                stream, bytes in
                if stream == .stderr {
                    output(OutputChunk(stream: .stderr, bytes: bytes))
                    return
                }
                let shown = stdout.consume(bytes)
                if !shown.isEmpty { output(OutputChunk(stream: .stdout, bytes: shown)) }
            } onInterrupt: { connection, interruption, channel in
                if case .lost = interruption { return }
                if stdout.processGroup == nil {
                    // The wrapper's first line may still be on its way on a busy host.
                    await connection.readStdout(of: channel, for: .seconds(3)) { bytes in
                        let shown = stdout.consume(bytes)
                        if !shown.isEmpty { output(OutputChunk(stream: .stdout, bytes: shown)) }
                        return stdout.processGroup != nil
                    }
                }
                await connection.terminate(processGroup: stdout.processGroup)
            }
        } catch {
            let rest = stdout.flush()
            if !rest.isEmpty { output(OutputChunk(stream: .stdout, bytes: rest)) }
            switch error {
            case .failed(let error):
                throw error
            case .interrupted(.timedOut):
                throw SSHError(
                    .commandTimeout, alias: alias, endpoint: endpoint,
                    message: "command ran past its timeout of \(DurationText(timeout ?? .zero)) "
                        + "and was terminated (its process group got SIGTERM, then SIGKILL)")
            case .interrupted(.cancelled):
                throw SSHError(
                    .cancelled, alias: alias, endpoint: endpoint,
                    message: "command interrupted; its process group was terminated")
            case .interrupted(.lost(let error)):
                throw error
            }
        }
        let rest = stdout.finish()
        if !rest.isEmpty { output(OutputChunk(stream: .stdout, bytes: rest)) }

        let status: ExitStatus
        if let signal = exit.signal {
            status = .signalled(signal)
        } else if let code = stdout.exitCode {
            status = .exited(code)
        } else if exit.status != 0 {
            status = .exited(exit.status)
        } else {
            // libssh2 says 0 both for a real 0 and for no status at all; the wrapper's
            // trailer is missing, so nothing proves the command succeeded.
            status = .unknown
        }
        return ExecResult(status: status, duration: ContinuousClock.now - started)
    }

    /// Runs one of Flotilla's own short commands (kill, sha256sum, mv) as is, without the
    /// wrapper, and returns its output and status.
    func run(
        _ command: String, stdin: [UInt8] = [], timeout: Duration, cancellable: Bool = true
    ) async throws(SSHError) -> (stdout: [UInt8], stderr: [UInt8], exit: ChannelExit) {
        var stdout: [UInt8] = []
        var stderr: [UInt8] = []
        let operation = makeOperation(timeout: timeout, cancellable: cancellable)
        do {
            let exit = try await runChannel(command, stdin: stdin, operation: operation) {
                stream, bytes in
                if stream == .stdout {
                    stdout.append(contentsOf: bytes)
                } else {
                    stderr.append(contentsOf: bytes)
                }
            } onInterrupt: { _, _, _ in }
            return (stdout, stderr, exit)
        } catch {
            switch error {
            case .failed(let error): throw error
            case .interrupted(let interruption):
                throw interrupted(interruption, doing: "an internal command")
            }
        }
    }

    /// Ends a command's process group from a fresh channel: TERM, then KILL after about 3s.
    func terminate(processGroup: Int32?) async {
        guard let group = processGroup, group > 1 else { return }
        let script = """
            kill -TERM -- -\(group) 2>/dev/null || exit 0
            i=0
            while [ $i -lt 30 ]; do
              kill -0 -- -\(group) 2>/dev/null || exit 0
              sleep 0.1; i=$((i + 1))
            done
            kill -KILL -- -\(group) 2>/dev/null
            exit 0
            """
        let confirmed = (try? await run(script, timeout: .seconds(15), cancellable: false)) != nil
        if !confirmed {
            // The polite ending did not finish in time (a host too busy to run it): end the
            // group at once rather than leave it running.
            _ = try? await run(
                "kill -KILL -- -\(group) 2>/dev/null; exit 0", timeout: .seconds(10),
                cancellable: false)
        }
    }

    /// Opens a channel, starts `command`, feeds stdin, drains stdout and stderr together
    /// until the remote end closes, then reads the exit status.
    func runChannel(
        _ command: String, stdin: [UInt8], operation: Operation,
        output: (OutputChunk.Stream, [UInt8]) -> Void,
        onInterrupt: (isolated Connection, Interruption, OpaquePointer) async -> Void
    ) async throws(ChannelStop) -> ChannelExit {
        let channel = try await openSessionChannel(operation)
        do throws(ChannelStop) {
            try await start(command, on: channel, operation)
            try await pump(channel, stdin: stdin, operation: operation, output: output)
        } catch {
            if case .interrupted(let interruption) = error {
                await onInterrupt(self, interruption, channel)
            }
            await discard(channel)
            throw error
        }
        return await finish(channel)
    }

    /// Asks the server to run `command` on an open channel.
    func start(
        _ command: String, on channel: OpaquePointer, _ operation: Operation
    ) async throws(ChannelStop) {
        let rc: Int32
        do {
            rc = try await perform(operation) {
                libssh2_channel_process_startup(
                    channel, "exec", 4, command, UInt32(command.utf8.count))
            }
        } catch {
            throw ChannelStop.interrupted(error)
        }
        guard rc == 0 else {
            throw ChannelStop.failed(failure(.channel, "the server refused to run the command"))
        }
    }

    func openSessionChannel(_ operation: Operation) async throws(ChannelStop) -> OpaquePointer {
        await enterChannelGate()
        defer { leaveChannelGate() }
        let session = self.session
        let channel: OpaquePointer?
        do {
            channel = try await performPointer(operation) {
                libssh2_channel_open_ex(
                    session, "session", 7, 2 * 1024 * 1024, 32_768, nil, 0)
            }
        } catch {
            throw .interrupted(error)
        }
        guard let channel else {
            throw .failed(failure(
                .channel, "the server refused a new channel; too many at once? (sshd's "
                    + "MaxSessions, 10 by default)"))
        }
        return channel
    }

    /// Writes `stdin` and drains both output streams. Returns true when `until` said the
    /// exchange is complete, false when the remote end closed both streams. With
    /// `closeInput` false the channel's stdin stays open for a later exchange.
    @discardableResult
    func pump(
        _ channel: OpaquePointer, stdin: [UInt8], closeInput: Bool = true,
        operation: Operation, output: (OutputChunk.Stream, [UInt8]) -> Void,
        until: () -> Bool = { false }
    ) async throws(ChannelStop) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var written = 0
        var eofSent = !closeInput && stdin.isEmpty
        var streamDone = [false, false]
        while true {
            do { try await awaitTurn(operation) } catch { throw .interrupted(error) }
            var progressed = false
            // A packet the socket took only part of must be finished before anything else is
            // sent or read.
            var sendBlocked = false

            if !eofSent {
                if written < stdin.count {
                    let count = stdin.withUnsafeBufferPointer { bytes in
                        bytes.withMemoryRebound(to: CChar.self) { text in
                            libssh2_channel_write_ex(
                                channel, 0, text.baseAddress! + written,
                                min(text.count - written, 262_144))
                        }
                    }
                    if count > 0 {
                        written += count
                        progressed = true
                    } else if count == Int(LIBSSH2_ERROR_EAGAIN) {
                        sendBlocked = isSendBlocked
                    } else {
                        // The command stopped reading stdin; its output still matters.
                        written = stdin.count
                    }
                }
                if written >= stdin.count && !closeInput {
                    eofSent = true
                } else if written >= stdin.count {
                    let rc = libssh2_channel_send_eof(channel)
                    if rc != LIBSSH2_ERROR_EAGAIN {
                        eofSent = true
                        progressed = true
                    } else {
                        sendBlocked = isSendBlocked
                    }
                }
            }

            // Reading may send a window adjustment, which libssh2 would drop while another
            // packet waits to be finished.
            for stream in 0..<2 where !streamDone[stream] && !sendBlocked {
                while true {
                    let count = buffer.withUnsafeMutableBufferPointer { bytes in
                        bytes.withMemoryRebound(to: CChar.self) { text in
                            libssh2_channel_read_ex(
                                channel, Int32(stream), text.baseAddress, text.count)
                        }
                    }
                    if count > 0 {
                        output(stream == 0 ? .stdout : .stderr, Array(buffer[..<count]))
                        progressed = true
                    } else if count == 0 {
                        if libssh2_channel_eof(channel) != 0 { streamDone[stream] = true }
                        break
                    } else if count == Int(LIBSSH2_ERROR_EAGAIN) {
                        break
                    } else {
                        // The turn to send may still be this call's from an earlier wait;
                        // kept, it would leave every other operation of the session waiting
                        // for a packet this one will never finish.
                        finishedCall(operation)
                        throw .failed(failure(.channel, "reading the command's output failed"))
                    }
                }
            }
            if streamDone[0] && streamDone[1] {
                finishedCall(operation)
                return false
            }
            if written >= stdin.count && until() {
                finishedCall(operation)
                return true
            }

            if progressed {
                finishedCall(operation)
                // Other sessions on this loop get their turn between bursts of output.
                await loop.yield()
                if operation.cancellable && Task.isCancelled { throw .interrupted(.cancelled) }
                if let deadline = operation.deadline, ContinuousClock.now >= deadline {
                    throw .interrupted(.timedOut)
                }
            } else {
                do {
                    try await waitForSocket(operation, sending: sendBlocked)
                } catch {
                    throw .interrupted(error)
                }
            }
        }
    }

    /// Reads stdout for a while, ignoring cancellation, until `enough` says so.
    func readStdout(
        of channel: OpaquePointer, for duration: Duration, _ enough: ([UInt8]) -> Bool
    ) async {
        let operation = makeOperation(timeout: duration, cancellable: false)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            do { try await awaitTurn(operation) } catch { return }
            let count = buffer.withUnsafeMutableBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) {
                    libssh2_channel_read_ex(channel, 0, $0.baseAddress, $0.count)
                }
            }
            if count > 0 {
                finishedCall(operation)
                if enough(Array(buffer[..<count])) { return }
            } else if count == Int(LIBSSH2_ERROR_EAGAIN) {
                do { try await waitForSocket(operation) } catch { return }
            } else {
                return
            }
        }
    }

    /// Closes the channel and reads how the command ended.
    private func finish(_ channel: OpaquePointer) async -> ChannelExit {
        let operation = makeOperation(timeout: .seconds(10), cancellable: false)
        _ = try? await perform(operation) { libssh2_channel_close(channel) }
        _ = try? await perform(operation) { libssh2_channel_wait_closed(channel) }
        let status = libssh2_channel_get_exit_status(channel)
        var name: UnsafeMutablePointer<CChar>?
        var length = 0
        _ = libssh2_channel_get_exit_signal(channel, &name, &length, nil, nil, nil, nil)
        var signal: String?
        if let name {
            let text = String(
                decoding: UnsafeRawBufferPointer(start: name, count: length), as: UTF8.self)
            signal = text.isEmpty ? nil : text
            libssh2_free(session, name)
        }
        _ = try? await perform(operation) { libssh2_channel_free(channel) }
        return ChannelExit(status: status, signal: signal)
    }

    /// Closes and frees a channel whose command was abandoned, without waiting long.
    func discard(_ channel: OpaquePointer) async {
        guard lostError == nil else { return }
        let operation = makeOperation(timeout: .seconds(2), cancellable: false)
        _ = try? await perform(operation) { libssh2_channel_close(channel) }
        _ = try? await perform(operation) { libssh2_channel_free(channel) }
    }
}
