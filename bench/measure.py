"""Runs one command and reports its wall time, CPU and peak memory as JSON.

usage: measure.py REPORT.json STDOUT_FILE STDERR_FILE -- COMMAND...

This process is a child sub-reaper, so processes that a tool daemonises (OpenSSH
ControlMaster/ControlPersist masters) are handed to it when their parent exits; it reaps
them too, which puts their CPU into RUSAGE_CHILDREN. Wall time runs from the start of the
command to the exit of its main process; such processes still alive then are given a short grace
and then ended with SIGTERM (what Ansible's ControlPersist masters would get from
`ssh -O exit`), and their CPU counts.
"""

import ctypes
import json
import os
import resource
import signal
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36
GRACE_SECONDS = 0.5
KILL_AFTER_SECONDS = 10


def children():
    pid = os.getpid()
    found = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return found


def reap_all():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main():
    report, out_path, err_path, dashdash, *argv = sys.argv[1:]
    assert dashdash == "--" and argv, __doc__
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.monotonic()
        child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, _ = os.wait4(child.pid, 0)
        wall = time.monotonic() - start

    # Daemonised processes: a grace period to exit by themselves, then SIGTERM, then SIGKILL.
    leftovers = 0
    deadline = time.monotonic() + GRACE_SECONDS
    signalled = None
    while True:
        reap_all()
        alive = children()
        if not alive:
            break
        now = time.monotonic()
        if now >= deadline and signalled is None:
            leftovers = len(alive)
            signalled = now
            for pid in alive:
                os.kill(pid, signal.SIGTERM)
        elif signalled is not None and now - signalled > KILL_AFTER_SECONDS:
            for pid in alive:
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {
        "exit_code": os.waitstatus_to_exitcode(status),
        "wall_s": wall,
        "user_s": usage.ru_utime,
        "sys_s": usage.ru_stime,
        "max_rss_mb": usage.ru_maxrss / 1024,
        "daemons_ended": leftovers,
    }
    with open(report, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
