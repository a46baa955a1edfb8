// The local fleet of real OpenSSH servers on 127.0.0.1. Filled in by the sandbox
// implementation; the engine and CLI tests start fleets through this.
