"""parallel-ssh (native client, libssh2 through ssh2-python), lock-step across hosts.

Uploads go over SCP, which carries the mode (its SFTP copy cannot set 0600). parallel-ssh
has no host-key verification of its own: every session's key is checked against the
fleet's known_hosts with libssh2's knownhost API after the first command; a mismatch or an
unknown key fails the run.
"""

import json
import os
import sys


class Driver:
    key = "parallel-ssh"
    title = "parallel-ssh 2.16 (libssh2)"
    package = "pssh"

    def unavailable(self, ctx):
        from . import venv_has
        return None if venv_has(ctx, self.package) else "not installed in bench/.venv"

    def command(self, ctx, case, job, targets, scratch):
        from . import Command
        return Command([ctx.venv_python, os.path.abspath(__file__), job])

    def expected_lines(self, case, targets):
        return len(targets) if case != "minimal" else 0


def _verify_host_keys(client, job):
    from ssh2 import knownhost
    mask = knownhost.LIBSSH2_KNOWNHOST_TYPE_PLAIN | knownhost.LIBSSH2_KNOWNHOST_KEYENC_RAW
    for (i, host), host_client in client._host_clients.items():
        target = job["targets"][i]
        session = host_client.session
        known = session.knownhost_init()
        known.readfile(job["known_hosts"])
        key, key_type = session.hostkey()
        # libssh2's host key types map to its knownhost key bits shifted by one.
        key_bits = (key_type + 1) << knownhost.LIBSSH2_KNOWNHOST_KEY_SHIFT
        known.checkp(host.encode(), target["port"], key, mask | key_bits)


def main(job_path):
    from gevent import joinall
    from pssh.clients import ParallelSSHClient
    from pssh.config import HostConfig

    with open(job_path) as f:
        job = json.load(f)
    targets = job["targets"]
    config = [HostConfig(port=t["port"], user=t["user"], private_key=job["identity"],
                         allow_agent=False, identity_auth=False) for t in targets]
    client = ParallelSSHClient([t["address"] for t in targets], host_config=config,
                               pool_size=len(targets), num_retries=1, allow_agent=False,
                               identity_auth=False)

    def run(command, show=False):
        output = client.run_command(command, stop_on_errors=True)
        for host_output in output:
            for line in host_output.stdout:
                if show:
                    print(line)
        client.join(output)
        failed = [o for o in output if o.exit_code != 0]
        if failed:
            raise SystemExit(f"{command!r} failed on {len(failed)} hosts")

    if job["case"] == "minimal":
        run(job["minimal_command"])
        _verify_host_keys(client, job)
        return
    for n, command in enumerate(job["commands"]):
        run(command)
        if n == 0:
            _verify_host_keys(client, job)
    for local, remote, _ in job["uploads"]:
        joinall(client.scp_send(local, remote), raise_error=True)
    run(job["run_script"], show=True)


if __name__ == "__main__":
    main(sys.argv[1])
