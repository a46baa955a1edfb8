internal import CLibSSH2

/// A long-lived command on one channel, fed piece by piece: the engine keeps one shell per
/// host and sends it each step, so a step costs the host no new session, fork and login
/// shell. Exchanges on one shell are the caller's to order: one at a time.
extension Connection {
    func openShell(_ command: String) async throws(SSHError) -> Int {
        let operation = makeOperation(timeout: .seconds(60), cancellable: true)
        let channel: OpaquePointer
        do {
            channel = try await openSessionChannel(operation)
        } catch {
            throw stopped(error, doing: "starting the host's shell")
        }
        do {
            try await start(command, on: channel, operation)
        } catch {
            await discard(channel)
            throw stopped(error, doing: "starting the host's shell")
        }
        let id = nextShell
        nextShell += 1
        shells[id] = channel
        return id
    }

    /// Writes `input` to the shell and delivers its output until `until` says the exchange
    /// is complete (true), or the shell ends (false; the shell is then closed). A timeout,
    /// a cancellation or a lost connection throws and closes the shell: what it was doing
    /// is not known any more.
    func exchange(
        shell id: Int, input: [UInt8], timeout: Duration?,
        output: @escaping @Sendable (OutputChunk) -> Void, until: @escaping @Sendable () -> Bool
    ) async throws(SSHError) -> Bool {
        guard let channel = shells[id] else {
            throw SSHError(
                .channel, alias: alias, endpoint: endpoint,
                message: "the shell on \(alias) has already ended")
        }
        let operation = makeOperation(timeout: timeout, cancellable: true)
        do {
            let complete = try await pump(
                channel, stdin: input, closeInput: false, operation: operation,
                output: { stream, bytes in output(OutputChunk(stream: stream, bytes: bytes)) },
                until: until)
            if !complete { await closeShell(id) }
            return complete
        } catch {
            shells[id] = nil
            await discard(channel)
            throw stopped(error, doing: "running a step in the host's shell")
        }
    }

    /// Ends the shell's input, waits briefly for it to finish, and frees the channel.
    func closeShell(_ id: Int) async {
        guard let channel = shells.removeValue(forKey: id) else { return }
        guard lostError == nil else { return }
        let operation = makeOperation(timeout: .seconds(5), cancellable: false)
        _ = try? await perform(operation) { libssh2_channel_send_eof(channel) }
        _ = try? await perform(operation) { libssh2_channel_close(channel) }
        _ = try? await perform(operation) { libssh2_channel_wait_closed(channel) }
        _ = try? await perform(operation) { libssh2_channel_free(channel) }
    }

    private func stopped(_ stop: ChannelStop, doing what: String) -> SSHError {
        switch stop {
        case .failed(let error): error
        case .interrupted(let interruption): interrupted(interruption, doing: what)
        }
    }
}
