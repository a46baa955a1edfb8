"""Plain OpenSSH: one ControlMaster connection per host, every step an `ssh`/`sftp` process
through it, hosts driven in parallel by `xargs -P N`. Each host runs its own sequence (no
lock-step). KEX pinned to curve25519-sha256, as libssh2 and paramiko cannot negotiate
OpenSSH's post-quantum default, which costs ≈ 100 ms of client CPU per connection here.
The minimal case opens a plain connection per host (no master)."""

import os
import shlex


class Driver:
    key = "openssh"
    title = "OpenSSH 9.2 ControlMaster + xargs -P"

    def unavailable(self, ctx):
        return None

    def command(self, ctx, case, job, targets, scratch):
        from . import Command
        from workload import COMMANDS, MINIMAL_COMMAND, RUN_SCRIPT, UPLOADS

        config = os.path.join(scratch, "ssh_config")
        with open(config, "w") as f:
            for t in targets:
                f.write(f"Host {t.name}\n  HostName {t.address}\n  Port {t.port}\n"
                        f"  User {t.user}\n")
            f.write(f"Host *\n  IdentityFile {ctx.identity}\n  IdentitiesOnly yes\n"
                    f"  UserKnownHostsFile {ctx.known_hosts}\n  StrictHostKeyChecking yes\n"
                    f"  GlobalKnownHostsFile /dev/null\n  BatchMode yes\n"
                    f"  KexAlgorithms curve25519-sha256\n  LogLevel ERROR\n"
                    f"  ControlPath {scratch}/cm-%C\n")
        ssh = f"ssh -F {shlex.quote(config)}"
        lines = ["#!/bin/bash", "set -eu", 'h="$1"']
        if case == "minimal":
            lines.append(f'exec {ssh} -o ControlPath=none "$h" {shlex.quote(MINIMAL_COMMAND)}')
        else:
            lines += [f'{ssh} -fN -o ControlMaster=yes -o ControlPersist=yes "$h"',
                      f"trap '{ssh} -O exit \"$h\" 2>/dev/null' EXIT"]
            lines += [f'{ssh} "$h" {shlex.quote(c)} > /dev/null' for c in COMMANDS]
            batch = []
            for local, remote, mode in UPLOADS:
                batch += [f"put {os.path.join(ctx.payload, local)} {remote}",
                          f"chmod {mode:o} {remote}"]
            lines += [f'sftp -q -F {shlex.quote(config)} -b - "$h" > /dev/null <<EOF',
                      *batch, "EOF",
                      f'{ssh} "$h" {shlex.quote(RUN_SCRIPT)}']
        host_script = os.path.join(scratch, "host.sh")
        with open(host_script, "w") as f:
            f.write("\n".join(lines) + "\n")
        names = " ".join(t.name for t in targets)
        return Command(["bash", "-c",
                        f"printf '%s\\n' {names} | xargs -P {len(targets)} -n 1 "
                        f"bash {shlex.quote(host_script)}"])

    def expected_lines(self, case, targets):
        return len(targets) if case != "minimal" else 0
