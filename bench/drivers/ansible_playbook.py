"""ansible-core: `ansible-playbook -f N` with a generated inventory and playbook, pipelining
on, OpenSSH underneath with ControlPersist, host key checking on against the fleet's
known_hosts, no fact gathering, the remote interpreter named (no discovery). The copy
module sets the modes. Tasks run in lock-step across hosts (linear strategy)."""

import os


class Driver:
    key = "ansible"
    title = "ansible-core 2.19, pipelining"
    package = "ansible"

    def unavailable(self, ctx):
        from . import venv_has
        return None if venv_has(ctx, self.package) else "not installed in bench/.venv"

    def command(self, ctx, case, job, targets, scratch):
        from . import Command
        from workload import COMMANDS, MINIMAL_COMMAND, OK_MARK, RUN_SCRIPT, UPLOADS

        config = os.path.join(scratch, "ansible.cfg")
        with open(config, "w") as f:
            f.write(f"""[defaults]
host_key_checking = True
forks = {len(targets)}
gathering = explicit
interpreter_python = /usr/bin/python3
retry_files_enabled = False
local_tmp = {scratch}/tmp
[ssh_connection]
pipelining = True
control_path_dir = {scratch}/cp
ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o KexAlgorithms=curve25519-sha256 \
-o UserKnownHostsFile={ctx.known_hosts} -o GlobalKnownHostsFile=/dev/null \
-o StrictHostKeyChecking=yes -o IdentitiesOnly=yes -o BatchMode=yes
""")
        inventory = os.path.join(scratch, "hosts.ini")
        with open(inventory, "w") as f:
            f.write("[fleet]\n")
            for t in targets:
                f.write(f"{t.name} ansible_host={t.address} ansible_port={t.port} "
                        f"ansible_user={t.user} ansible_ssh_private_key_file={ctx.identity} "
                        f"pb_home={t.home}\n")
        tasks = []
        if case == "minimal":
            tasks.append(f"    - ansible.builtin.command: {MINIMAL_COMMAND!r}")
        else:
            tasks += [f"    - ansible.builtin.shell: {c!r}" for c in COMMANDS[:-1]]
            tasks.append(f"    - ansible.builtin.command: {COMMANDS[-1]!r}")
            for local, remote, mode in UPLOADS:
                tasks += ["    - ansible.builtin.copy:",
                          f"        src: {os.path.join(ctx.payload, local)}",
                          f"        dest: \"{{{{ pb_home }}}}/{remote}\"",
                          f"        mode: \"0{mode:o}\""]
            tasks += [f"    - ansible.builtin.shell: {RUN_SCRIPT}",
                      "      args: { chdir: \"{{ pb_home }}\" }",
                      "      register: script",
                      f"      failed_when: \"'{OK_MARK}' not in script.stdout\""]
        playbook = os.path.join(scratch, "playbook.yml")
        with open(playbook, "w") as f:
            f.write("- hosts: fleet\n  gather_facts: false\n  tasks:\n" + "\n".join(tasks) + "\n")
        binary = os.path.join(os.path.dirname(ctx.venv_python), "ansible-playbook")
        env = {"ANSIBLE_CONFIG": config, "ANSIBLE_HOME": os.path.join(scratch, "home")}
        return Command([binary, "-i", inventory, playbook], env=env, cwd=scratch)

    def expected_lines(self, case, targets):
        return 0
