"""Flotilla: a generated inventory and playbook (PRODUCT §3, §4) run with
`flotilla run PLAYBOOK -i INVENTORY --forks N --logs DIR --output plain -q`. One stage, so
each host runs its own sequence over its one session. Flotilla counts as not available
when its binary is missing or `flotilla version` fails."""

import os
import subprocess

from workload import COMMANDS, MINIMAL_COMMAND, RUN_SCRIPT, UPLOADS


class Driver:
    key = "flotilla"
    title = "Flotilla"

    def unavailable(self, ctx):
        if not os.access(ctx.flotilla, os.X_OK):
            return f"no binary at {ctx.flotilla} yet (swift build -c release)"
        try:
            version = subprocess.run([ctx.flotilla, "version"], capture_output=True,
                                     timeout=10)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"`flotilla version` failed: {error}"
        if version.returncode != 0:
            return f"`flotilla version` exited {version.returncode}"
        return None

    def command(self, ctx, case, job, targets, scratch):
        from . import Command

        inventory = os.path.join(scratch, "inventory.yml")
        with open(inventory, "w") as f:
            f.write(f"defaults:\n  identity: {ctx.identity}\n"
                    f"  known_hosts: {ctx.known_hosts}\n  host_keys: strict\n")
            f.write("hosts:\n")
            for t in targets:
                f.write(f"  {t.name}: {{ address: {t.address}, port: {t.port}, "
                        f"user: {t.user} }}\n")
        files = os.path.join(scratch, "files")
        if not os.path.islink(files):
            os.symlink(ctx.payload, files)
        steps = []
        if case == "minimal":
            steps.append(f"      - run: {MINIMAL_COMMAND!r}")
        else:
            steps += [f"      - run: {c!r}" for c in COMMANDS]
            for local, remote, mode in UPLOADS:
                steps += [f"      - upload: files/{local}", f"        to: \"~/{remote}\"",
                          f"        mode: \"0{mode:o}\""]
            steps.append(f"      - run: \"~/{RUN_SCRIPT[2:]}\"")
        playbook = os.path.join(scratch, "playbook.yml")
        with open(playbook, "w") as f:
            f.write(f"name: bench {case}\nhosts: all\nstages:\n  - name: work\n    steps:\n"
                    + "\n".join(steps) + "\n")
        return Command([ctx.flotilla, "run", playbook, "-i", inventory,
                        "--forks", str(len(targets)), "--logs", os.path.join(scratch, "logs"),
                        "--output", "plain", "-q"], cwd=scratch)

    def expected_lines(self, case, targets):
        return 0
