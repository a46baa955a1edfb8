#!/usr/bin/env python3
"""Flotilla against its peers on a local fleet: one command, same work for every tool.

    python3 bench/run.py --hosts 5,20 --runs 5                       # minimal + full
    python3 bench/run.py --cases latency --runs 5                    # full, 20 hosts, +10 ms
    python3 bench/run.py --hosts 500 --servers 50 --cases full --runs 1 \\
        --tools flotilla,parallel-ssh                                 # the scale case

Starts its own sshd fleet on 127.0.0.1 (bench/fleet.py), installs the peers into
bench/.venv from PyPI when they are missing, runs every tool once as a warm-up and then
`--runs` rounds in which the order of the tools rotates, and prints, per case and host
count, the median wall time, client CPU (user + sys of the whole process tree), peak memory
(largest resident set of one process of the tree) and the ratio Flotilla / peer. The same
figures, every single run and the machine go to bench/results/<time>.json and
bench/results/latest.json. Needs root (the fleet has one Unix user per host).
"""

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)

import workload  # noqa: E402
from drivers import Context, all_drivers  # noqa: E402
from fleet import Fleet  # noqa: E402
from report import ROUND_TRIPS, round_trip_floor, summarize, table, targets  # noqa: E402

REPO = os.path.dirname(BENCH)
VENV = os.path.join(BENCH, ".venv")
PEER_PACKAGES = ["ansible-core", "pyinfra", "fabric", "parallel-ssh"]
RUN_TIMEOUT_S = 900

def parse_args():
    parser = argparse.ArgumentParser(
        description="Run the same work with Flotilla and its peers on a local sshd fleet.",
        epilog="Example: python3 bench/run.py --hosts 5,20 --runs 5")
    parser.add_argument("--hosts", default="5,20",
                        help="host counts for minimal and full, comma-separated (default 5,20)")
    parser.add_argument("--cases", default="minimal,full",
                        help="minimal, full, latency, comma-separated (default minimal,full)")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per tool (default 5)")
    parser.add_argument("--warmup", type=int, default=1, help="unmeasured runs first (default 1)")
    parser.add_argument("--tools", default="all",
                        help="flotilla, parallel-ssh, openssh, fabric, pyinfra, ansible")
    parser.add_argument("--servers", type=int, default=50,
                        help="most sshd servers to start; more hosts share them as users")
    parser.add_argument("--latency-hosts", type=int, default=20)
    parser.add_argument("--delay-ms", type=float, default=10.0,
                        help="delay the relay adds each way in the latency case (default 10)")
    parser.add_argument("--flotilla", default=os.path.join(REPO, ".build/release/flotilla"))
    parser.add_argument("--work", default=os.path.join(BENCH, ".work"),
                        help="fleet, payload and scratch folder (default bench/.work)")
    parser.add_argument("--results", default=os.path.join(BENCH, "results"))
    parser.add_argument("--users", default="flbench",
                        help="prefix of the fleet's Unix users; one fleet folder per prefix")
    parser.add_argument("--prove-host-keys", action="store_true",
                        help="only check that every tool refuses a host whose key changed")
    parser.add_argument("--no-install", action="store_true",
                        help="never call pip; peers missing from bench/.venv are skipped")
    return parser.parse_args()


# Peers ----------------------------------------------------------------------------------------

def ensure_venv(no_install):
    python = os.path.join(VENV, "bin", "python")
    if no_install:
        return python
    if not os.path.exists(python):
        print("bench: creating bench/.venv", flush=True)
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    missing = [p for p in PEER_PACKAGES
               if subprocess.run([python, "-m", "pip", "show", "-q", p],
                                 capture_output=True).returncode != 0]
    if missing:
        print(f"bench: installing {', '.join(missing)} into bench/.venv", flush=True)
        subprocess.run([python, "-m", "pip", "install", "-q", *missing], check=True)
    return python


def peer_versions(python):
    if not os.path.exists(python):
        return {}
    listing = subprocess.run([python, "-m", "pip", "list", "--format", "json"],
                             capture_output=True, text=True)
    if listing.returncode != 0:
        return {}
    wanted = set(PEER_PACKAGES) | {"paramiko", "ssh2-python", "gevent", "invoke"}
    return {p["name"]: p["version"] for p in json.loads(listing.stdout) if p["name"] in wanted}


def machine():
    def output(argv):
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            return (result.stdout + result.stderr).strip()
        except OSError:
            return "unknown"

    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        memory_gib = int(f.readline().split()[1]) / (1 << 20)
    return {
        "nproc": os.cpu_count(), "cpu": cpu, "memory_gib": round(memory_gib, 1),
        "kernel": platform.release(), "os": output(["sh", "-c", ". /etc/os-release; "
                                                    "echo $PRETTY_NAME"]),
        "openssh": output(["ssh", "-V"]),
        "libssh2": output(["dpkg-query", "-W", "-f", "${Version}", "libssh2-1"]),
        "python": platform.python_version(),
        "open_files_limit": output(["sh", "-c", "ulimit -n"]),
        "load_avg_at_start": os.getloadavg(),
    }


# One run --------------------------------------------------------------------------------------

def measure(ctx, fleet, driver, case, targets, scratch_root):
    """Runs the tool once on targets; returns the record of that run."""
    scratch = os.path.join(scratch_root, driver.key)
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(scratch)
    fleet.clean(len(targets))
    fleet.wait_idle()
    job = workload.write_job(os.path.join(scratch, "job.json"),
                             "minimal" if case == "minimal" else "full", targets,
                             ctx.identity, ctx.known_hosts, ctx.payload)
    command = driver.command(ctx, case, job, targets, scratch)
    report = os.path.join(scratch, "measure.json")
    out, err = os.path.join(scratch, "stdout.log"), os.path.join(scratch, "stderr.log")
    env = dict(os.environ, **command.env)
    server_before = fleet.server_cpu_seconds()
    fleet.logins()
    process = subprocess.Popen(
        [sys.executable, os.path.join(BENCH, "measure.py"), report, out, err, "--",
         *command.argv], cwd=command.cwd or scratch, env=env, start_new_session=True)
    try:
        process.wait(timeout=RUN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        end_group(process)
    except KeyboardInterrupt:
        end_group(process)
        raise
    fleet.wait_idle()
    record = {"tool": driver.key, "case": case, "hosts": len(targets),
              "load_1m": os.getloadavg()[0],
              "server_cpu_s": round(fleet.server_cpu_seconds() - server_before, 3)}
    try:
        with open(report) as f:
            record.update(json.load(f))
    except (OSError, ValueError):
        record.update(exit_code=None, problem=f"timed out after {RUN_TIMEOUT_S} s")
        return record
    record["cpu_s"] = record["user_s"] + record["sys_s"]
    record["problem"] = check(driver, case, targets, ctx, record, out, err, fleet.logins())
    return record


def end_group(process):
    """Ends the measured tool and everything it started (they share a process group)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def check(driver, case, targets, ctx, record, out, err, logins):
    """Why the run does not count, or None when every host did all the work."""
    if record["exit_code"] != 0:
        with open(err, errors="replace") as f:
            tail = f.read()[-600:].strip()
        with open(out, errors="replace") as f:
            tail = (f.read()[-600:].strip() + "\n" + tail).strip()
        return f"exit code {record['exit_code']}: {tail}"
    missing = {t.user for t in targets} - set(logins)
    if missing:
        return f"{len(missing)} hosts were never logged in to, e.g. {sorted(missing)[0]}"
    expected = driver.expected_lines(case, targets)
    if expected:
        with open(out, errors="replace") as f:
            seen = sum(workload.OK_MARK in line for line in f)
        if seen != expected:
            return f"{seen} hosts reported the script's ok line, expected {expected}"
    if case != "minimal":
        problems = workload.check_hosts(targets, ctx.payload)
        if problems:
            return f"{len(problems)} problems, first: {problems[0]}"
    return None


# Rounds ---------------------------------------------------------------------------------------

def run_matrix(args, ctx, fleet, drivers, records):
    host_counts = [int(h) for h in args.hosts.split(",") if h]
    cases = [c for c in args.cases.split(",") if c]
    plan = [(case, n) for case in cases if case != "latency" for n in host_counts]
    if "latency" in cases:
        plan.append(("latency", args.latency_hosts))
    relay = None
    scratch_root = os.path.join(args.work, "scratch")
    try:
        for case, n in plan:
            if case == "latency" and relay is None:
                relay = start_relay(fleet, args.delay_ms)
            targets = fleet.targets(n, via_relay=(case == "latency"))
            run_case(args, ctx, fleet, drivers, case, targets, scratch_root, records)
    finally:
        if relay:
            relay.terminate()
            relay.wait()


def run_case(args, ctx, fleet, drivers, case, targets, scratch_root, records):
    active = list(drivers)
    n = len(targets)
    print(f"\n== {case}, {n} hosts", flush=True)
    for _ in range(args.warmup):
        for driver in list(active):
            record = measure(ctx, fleet, driver, case, targets, scratch_root)
            if record["problem"]:
                report_failure(driver, record, records, warmup=True)
                active.remove(driver)
    for run in range(args.runs):
        # Rotate the order, so that no tool always runs right after the same other.
        shift = run % len(active) if active else 0
        for driver in active[shift:] + active[:shift]:
            record = measure(ctx, fleet, driver, case, targets, scratch_root)
            record["run"] = run + 1
            records.append(record)
            status = "ok" if not record["problem"] else "FAILED"
            print(f"  run {run + 1} {driver.key:13} {record.get('wall_s', 0):7.2f} s wall "
                  f"{record.get('cpu_s', 0):6.2f} s cpu {record.get('max_rss_mb', 0):6.1f} MB "
                  f"{status}", flush=True)
            if record["problem"]:
                print(f"    {record['problem']}", flush=True)


def report_failure(driver, record, records, warmup):
    record["run"] = 0
    records.append(record)
    print(f"  {driver.key}: failed in the warm-up, left out of this case: "
          f"{record['problem']}", flush=True)


def prove_host_keys(ctx, fleet, drivers, scratch_root):
    """Runs minimal on 2 hosts with the first host's key replaced in known_hosts; every tool
    must fail. Returns the tools that did not."""
    wrong_key = os.path.join(scratch_root, "wrong_host_key")
    if not os.path.exists(wrong_key):
        os.makedirs(scratch_root, exist_ok=True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", wrong_key],
                       check=True)
    with open(wrong_key + ".pub") as f:
        key_type, key = f.read().split()[:2]
    targets = fleet.targets(2)
    first = f"[127.0.0.1]:{targets[0].port} "
    bad = os.path.join(scratch_root, "known_hosts.wrong")
    with open(ctx.known_hosts) as f, open(bad, "w") as out:
        for line in f:
            out.write(f"{first}{key_type} {key}\n" if line.startswith(first) else line)
    lenient = []
    print("\n== host keys: the first host's key is replaced in known_hosts", flush=True)
    for driver in drivers:
        record = measure(dataclasses.replace(ctx, known_hosts=bad), fleet, driver, "minimal",
                         targets, scratch_root)
        refused = record.get("exit_code") != 0
        print(f"  {driver.key:13} {'refused' if refused else 'DID NOT REFUSE'} "
              f"(exit code {record.get('exit_code')})", flush=True)
        if not refused:
            lenient.append(driver.key)
    return lenient


def start_relay(fleet, delay_ms):
    pairs = [f"{r}:{p}" for r, p in zip(fleet.relay_ports, fleet.ports)]
    relay = subprocess.Popen([sys.executable, os.path.join(BENCH, "relay.py"), str(delay_ms),
                              *pairs], stdout=subprocess.PIPE, text=True)
    if relay.stdout.readline().strip() != "ready":
        raise SystemExit("bench: the latency relay did not start")
    return relay


def main():
    args = parse_args()
    python = ensure_venv(args.no_install)
    wanted = None if args.tools == "all" else set(args.tools.split(","))
    host_counts = [int(h) for h in args.hosts.split(",") if h]
    biggest = max(host_counts + ([args.latency_hosts] if "latency" in args.cases else []))
    fleet = Fleet(os.path.join(args.work, "fleet"), biggest, servers=args.servers,
                  user_prefix=args.users)
    ctx = Context(bench=BENCH, venv_python=python,
                  payload=workload.make_payload(os.path.join(args.work, "payload")),
                  identity=fleet.identity, known_hosts=fleet.known_hosts,
                  flotilla=os.path.abspath(args.flotilla))

    drivers, unavailable = [], {}
    for driver in all_drivers():
        if wanted and driver.key not in wanted:
            continue
        reason = driver.unavailable(ctx)
        if reason:
            unavailable[driver.key] = reason
            print(f"bench: {driver.key} not available: {reason}", flush=True)
        else:
            drivers.append(driver)

    info = machine()
    peers = peer_versions(python)
    started = datetime.datetime.now(datetime.timezone.utc)
    print(f"bench: {info['nproc']} × {info['cpu']}, kernel {info['kernel']}, "
          f"{info['openssh']}, libssh2 {info['libssh2']}, load {info['load_avg_at_start']}",
          flush=True)
    print(f"bench: starting {fleet.server_count} sshd for {biggest} hosts", flush=True)
    records = []

    # Background shells start us with SIGINT ignored; stop cleanly on either signal anyway.
    def interrupt(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    fleet.start()
    try:
        if args.prove_host_keys:
            lenient = prove_host_keys(ctx, fleet, drivers, os.path.join(args.work, "scratch"))
            return 1 if lenient else 0
        run_matrix(args, ctx, fleet, drivers, records)
    except KeyboardInterrupt:
        print("bench: interrupted; writing what was measured", flush=True)
    finally:
        fleet.stop()
        # What follows only reports; a late signal must not lose the results.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)

    summary = summarize(records)
    trips, floor = round_trip_floor(args.delay_ms)
    result = {
        "started": started.isoformat(timespec="seconds"),
        "command": " ".join(["python3", "bench/run.py", *sys.argv[1:]]),
        "machine": info, "peers": peers, "unavailable": unavailable,
        "round_trips": {"steps": ROUND_TRIPS, "total": trips, "floor_s": floor,
                        "delay_ms_each_way": args.delay_ms},
        "summary": summary, "runs": records,
    }
    os.makedirs(args.results, exist_ok=True)
    path = os.path.join(args.results, started.strftime("%Y%m%dT%H%M%SZ") + ".json")
    for target in (path, os.path.join(args.results, "latest.json")):
        with open(target, "w") as f:
            json.dump(result, f, indent=1)
    shown = sorted({(s["case"], s["hosts"]) for s in summary},
                   key=lambda k: (workload.CASES.index(k[0]), k[1]))
    print()
    for case, hosts in shown:
        print(table(summary, unavailable, case, hosts, args.delay_ms))
        print()
    if any(s["case"] != "minimal" for s in summary):
        print(targets(summary, args.delay_ms, args.latency_hosts))
        print()
    print(f"bench: results in {path}")
    failed = [r for r in records if r["problem"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
