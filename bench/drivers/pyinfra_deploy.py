"""pyinfra 3 (paramiko): `pyinfra -y --parallel N inventory.py deploy.py`, with strict host
key checking against the fleet's known_hosts. Operations run in lock-step across hosts;
`files.put` uploads over SFTP and sets the mode with a remote chmod, after its own fact
checks."""

import os


class Driver:
    key = "pyinfra"
    title = "pyinfra 3.10 (paramiko)"
    package = "pyinfra"

    def unavailable(self, ctx):
        from . import venv_has
        return None if venv_has(ctx, self.package) else "not installed in bench/.venv"

    def command(self, ctx, case, job, targets, scratch):
        from . import Command
        from workload import COMMANDS, MINIMAL_COMMAND, OK_MARK, RUN_SCRIPT, UPLOADS

        hosts = [(t.name, {"ssh_hostname": t.address, "ssh_port": t.port, "ssh_user": t.user,
                           "ssh_key": ctx.identity, "ssh_known_hosts_file": ctx.known_hosts,
                           "ssh_strict_host_key_checking": "yes", "ssh_allow_agent": False,
                           "ssh_look_for_keys": False, "pb_home": t.home})
                 for t in targets]
        inventory = os.path.join(scratch, "inventory.py")
        with open(inventory, "w") as f:
            f.write(f"hosts = {hosts!r}\n")
        ops = ["from pyinfra import host", "from pyinfra.operations import files, server"]
        if case == "minimal":
            ops.append(f"server.shell(name='minimal', commands=[{MINIMAL_COMMAND!r}])")
        else:
            ops += [f"server.shell(name='step {n}', commands=[{c!r}])"
                    for n, c in enumerate(COMMANDS, 1)]
            ops += [f"files.put(name='upload {remote}', "
                    f"src={os.path.join(ctx.payload, local)!r}, "
                    f"dest=host.data.pb_home + '/{remote}', mode='{mode:o}')"
                    for local, remote, mode in UPLOADS]
            ops.append(f"server.shell(name='script', "
                       f"commands=['{RUN_SCRIPT} | grep -q \"{OK_MARK}\"'])")
        deploy = os.path.join(scratch, "deploy.py")
        with open(deploy, "w") as f:
            f.write("\n".join(ops) + "\n")
        pyinfra = os.path.join(os.path.dirname(ctx.venv_python), "pyinfra")
        return Command([pyinfra, "-y", "--parallel", str(len(targets)), inventory, deploy],
                       cwd=scratch)

    def expected_lines(self, case, targets):
        return 0
