"""One driver per tool. A driver turns (case, targets) into the command that runs the
workload with that tool, and says whether the tool can run here at all."""

import os
from dataclasses import dataclass, field


@dataclass
class Context:
    """What every driver may use."""

    bench: str            # the bench/ folder
    venv_python: str      # bench/.venv/bin/python
    payload: str          # folder with the upload payload
    identity: str         # the client's private key
    known_hosts: str      # every server's key, for direct and relay ports
    flotilla: str         # the flotilla binary


@dataclass
class Command:
    argv: list
    env: dict = field(default_factory=dict)
    cwd: str = None


def venv_has(ctx, package):
    """Whether bench/.venv holds the package, without starting its interpreter."""
    lib = os.path.join(os.path.dirname(os.path.dirname(ctx.venv_python)), "lib")
    if not os.path.isdir(lib):
        return False
    return any(os.path.isdir(os.path.join(lib, d, "site-packages", package))
               for d in os.listdir(lib))


def all_drivers():
    """Every tool, in the order the tables show them."""
    from . import (ansible_playbook, fabric_group, flotilla, openssh_mux, parallel_ssh,
                   pyinfra_deploy)
    return [flotilla.Driver(), parallel_ssh.Driver(), openssh_mux.Driver(),
            fabric_group.Driver(), pyinfra_deploy.Driver(), ansible_playbook.Driver()]
