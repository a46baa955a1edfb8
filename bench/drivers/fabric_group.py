"""Fabric 3 (paramiko), one ThreadingGroup of connections, lock-step across hosts.

Fabric's default policy adds unknown host keys; here every connection loads the fleet's
known_hosts and rejects any key it does not find there. `put` keeps the local file's mode,
so the payload files are 0600 and the script 0700 locally.
"""

import json
import os
import sys


class Driver:
    key = "fabric"
    title = "Fabric 3.2 ThreadingGroup (paramiko)"
    package = "fabric"

    def unavailable(self, ctx):
        from . import venv_has
        return None if venv_has(ctx, self.package) else "not installed in bench/.venv"

    def command(self, ctx, case, job, targets, scratch):
        from . import Command
        return Command([ctx.venv_python, os.path.abspath(__file__), job])

    def expected_lines(self, case, targets):
        return len(targets) if case != "minimal" else 0


def main(job_path):
    from fabric import Connection, ThreadingGroup
    from paramiko import RejectPolicy

    with open(job_path) as f:
        job = json.load(f)
    connections = []
    for t in job["targets"]:
        c = Connection(t["address"], user=t["user"], port=t["port"],
                       connect_kwargs={"key_filename": job["identity"],
                                       "look_for_keys": False, "allow_agent": False})
        c.client.set_missing_host_key_policy(RejectPolicy())
        c.client.load_host_keys(job["known_hosts"])
        connections.append(c)
    group = ThreadingGroup.from_connections(connections)
    try:
        if job["case"] == "minimal":
            group.run(job["minimal_command"], hide=True)
            return
        for command in job["commands"]:
            group.run(command, hide=True)
        for local, remote, _ in job["uploads"]:
            group.put(local, remote=remote)
        results = group.run(job["run_script"], hide=True)
        for result in results.values():
            print(result.stdout.strip())
    finally:
        group.close()


if __name__ == "__main__":
    main(sys.argv[1])
