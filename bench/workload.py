"""The work every tool does, defined once.

full, per host, as the host's own user, in this order:
  10 small commands, each its own remote execution: `echo step-1 > /dev/null` … step-9,
  then `uname -a`; upload a 1 KiB and a 1 MiB file with mode 0600; upload a script with
  mode 0700 and run it. The script checks the uploads and prints (and leaves in ~/pb_done)
  "<user> ok 1k=1024 1m=1048576 sha=<16 hex>".
minimal: `true` once on every host.
"""

import hashlib
import json
import os
import pwd
import random
from dataclasses import asdict

CASES = ("minimal", "full", "latency")
COMMANDS = [f"echo step-{i} > /dev/null" for i in range(1, 10)] + ["uname -a"]
MINIMAL_COMMAND = "true"
SCRIPT_NAME = "pb_script.sh"
RUN_SCRIPT = "./pb_script.sh"
OK_MARK = " ok 1k=1024 1m=1048576 "
# (local name, remote name relative to the home, mode)
UPLOADS = [("pb_1k.bin", "pb_1k.bin", 0o600), ("pb_1m.bin", "pb_1m.bin", 0o600),
           (SCRIPT_NAME, SCRIPT_NAME, 0o700)]

SCRIPT = """#!/bin/sh
set -e
cd "$HOME"
m1=$(stat -c %a pb_1k.bin); m2=$(stat -c %a pb_1m.bin)
if [ "$m1" != 600 ] || [ "$m2" != 600 ]; then echo "$(id -un) bad modes $m1 $m2"; exit 1; fi
s1=$(stat -c %s pb_1k.bin); s2=$(stat -c %s pb_1m.bin)
sha=$(sha256sum pb_1m.bin | cut -c1-16)
line="$(id -un) ok 1k=$s1 1m=$s2 sha=$sha"
echo "$line" > pb_done
echo "$line"
"""


def make_payload(folder):
    """Writes the payload files with the modes the tools that keep local modes carry over."""
    os.makedirs(folder, exist_ok=True)
    rng = random.Random(20261203)
    contents = {"pb_1k.bin": rng.randbytes(1024), "pb_1m.bin": rng.randbytes(1 << 20),
                SCRIPT_NAME: SCRIPT.encode()}
    for local, _, mode in UPLOADS:
        path = os.path.join(folder, local)
        with open(path, "wb") as f:
            f.write(contents[local])
        os.chmod(path, mode)
    return folder


def expected_sha(payload):
    with open(os.path.join(payload, "pb_1m.bin"), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:16]


def check_hosts(targets, payload):
    """Checks on disk what the full workload must leave on every host; returns problems."""
    problems = []
    sha = expected_sha(payload)
    for t in targets:
        uid = pwd.getpwnam(t.user).pw_uid
        for local, remote, mode in UPLOADS:
            path = os.path.join(t.home, remote)
            try:
                st = os.stat(path)
            except OSError:
                problems.append(f"{t.name}: {remote} missing")
                continue
            size = os.path.getsize(os.path.join(payload, local))
            if st.st_size != size or st.st_mode & 0o777 != mode or st.st_uid != uid:
                problems.append(f"{t.name}: {remote} is {st.st_size} bytes, mode "
                                f"{st.st_mode & 0o777:o}, uid {st.st_uid}; expected {size}, "
                                f"{mode:o}, {uid}")
        try:
            with open(os.path.join(t.home, "pb_done")) as f:
                done = f.read()
        except OSError:
            done = ""
        if f"{t.user}{OK_MARK}sha={sha}" not in done:
            problems.append(f"{t.name}: the script did not run to the end ({done.strip()!r})")
    return problems


def write_job(path, case, targets, identity, known_hosts, payload):
    """The job file the tools' own scripts read (they cannot import the harness)."""
    job = {"case": case, "targets": [asdict(t) for t in targets], "identity": identity,
           "known_hosts": known_hosts, "payload": payload, "commands": COMMANDS,
           "minimal_command": MINIMAL_COMMAND, "run_script": RUN_SCRIPT, "ok_mark": OK_MARK,
           "uploads": [[os.path.join(payload, local), remote, mode]
                       for local, remote, mode in UPLOADS]}
    with open(path, "w") as f:
        json.dump(job, f, indent=1)
    return path
