"""Tables from the harness's results: medians per tool, Flotilla / peer ratios, the round-trip
floor of the latency case, and the issue's targets with Flotilla's figures.

    python3 bench/report.py [RESULTS.json...]     # Markdown on stdout; default latest.json
"""

import json
import os
import statistics
import sys

CASES = ("minimal", "full", "latency")
TITLES = {
    "flotilla": "Flotilla",
    "parallel-ssh": "parallel-ssh (libssh2)",
    "openssh": "OpenSSH ControlMaster + xargs -P",
    "fabric": "Fabric ThreadingGroup (paramiko)",
    "pyinfra": "pyinfra (paramiko)",
    "ansible": "Ansible, pipelining",
}

# Round trips the full workload needs per host over one session (RFC 4253/4252/4254 and
# the SFTP draft), with nothing pipelined that the protocols make a client wait for.
ROUND_TRIPS = [
    ("TCP connect", 1),
    ("version exchange + KEXINIT", 1),
    ("ECDH key exchange + NEWKEYS", 1),
    ("ssh-userauth service request", 1),
    ("publickey authentication (signed request)", 1),
    ("10 commands × (channel open + exec with output and exit status)", 20),
    ("SFTP channel open + subsystem + init", 3),
    ("3 uploads × (open with mode + write + fsync + close + rename)", 15),
    ("run the script (channel open + exec)", 2),
]


# Summary --------------------------------------------------------------------------------------

def summarize(records):
    groups = {}
    for r in records:
        groups.setdefault((r["case"], r["hosts"], r["tool"]), []).append(r)
    summary = []
    for (case, hosts, tool), runs in groups.items():
        good = [r for r in runs if not r["problem"] and r.get("run", 0) > 0]
        entry = {"case": case, "hosts": hosts, "tool": tool, "runs": len(good),
                 "failed_runs": len(runs) - len(good)}
        if good:
            walls = [r["wall_s"] for r in good]
            entry.update(
                wall_s=statistics.median(walls), wall_min_s=min(walls), wall_max_s=max(walls),
                cpu_s=statistics.median(r["cpu_s"] for r in good),
                user_s=statistics.median(r["user_s"] for r in good),
                sys_s=statistics.median(r["sys_s"] for r in good),
                max_rss_mb=max(r["max_rss_mb"] for r in good),
                server_cpu_s=statistics.median(r["server_cpu_s"] for r in good))
        else:
            entry["problem"] = next((r["problem"] for r in runs if r["problem"]), "no run")
        summary.append(entry)
    return summary


def round_trip_floor(delay_ms):
    trips = sum(n for _, n in ROUND_TRIPS)
    return trips, trips * 2 * delay_ms / 1000


def table(summary, unavailable, case, hosts, delay_ms):
    rows = [s for s in summary if s["case"] == case and s["hosts"] == hosts]
    flotilla = next((s for s in rows if s["tool"] == "flotilla" and "wall_s" in s), None)
    lines = [f"### {case}, {hosts} hosts", "",
             "| tool | median wall s | min–max s | wall per host ms | client CPU s (user+sys) "
             "| peak RSS MB | server CPU s | Flotilla / peer wall | Flotilla / peer CPU | runs |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in rows:
        if "wall_s" not in s:
            lines.append(f"| {TITLES.get(s['tool'], s['tool'])} | failed: "
                         f"{s.get('problem', '')[:80]} | | | | | | | | 0 |")
            continue
        ratio_wall = f"{flotilla['wall_s'] / s['wall_s']:.2f}" if flotilla else "pending"
        ratio_cpu = f"{flotilla['cpu_s'] / s['cpu_s']:.2f}" if flotilla else "pending"
        if s["tool"] == "flotilla":
            ratio_wall = ratio_cpu = "–"
        cells = [f"**{s['wall_s']:.2f}**", f"{s['wall_min_s']:.2f}–{s['wall_max_s']:.2f}",
                 f"{s['wall_s'] / hosts * 1000:.0f}",
                 f"{s['cpu_s']:.2f} ({s['user_s']:.2f}+{s['sys_s']:.2f})",
                 f"{s['max_rss_mb']:.0f}", f"{s['server_cpu_s']:.2f}", ratio_wall, ratio_cpu,
                 str(s["runs"])]
        lines.append(f"| {TITLES.get(s['tool'], s['tool'])} | " + " | ".join(cells) + " |")
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/"
    for key, reason in unavailable.items():
        state = "pending" if key == "flotilla" else "not available"
        lines.append(f"| {TITLES.get(key, key)} | {state}: {reason.replace(repo, '')} "
                     "| | | | | | | | 0 |")
    if case == "latency":
        trips, floor = round_trip_floor(delay_ms)
        lines.append("")
        lines.append(f"Round-trip floor of the full workload per host: {trips} round trips × "
                     f"{2 * delay_ms:.0f} ms = {floor:.2f} s (target: Flotilla ≤ "
                     f"{1.2 * floor:.2f} s).")
    return "\n".join(lines)




def _find(summary, case, hosts, tool):
    return next((s for s in summary if (s["case"], s["hosts"], s["tool"]) == (case, hosts, tool)
                 and "wall_s" in s), None)


def targets(summary, delay_ms, latency_hosts=20):
    """The issue's targets for the full workload, each with Flotilla's figure or "pending"."""
    rows = []

    def ratio(case, hosts, peer, bound, field="wall_s"):
        mine, theirs = _find(summary, case, hosts, "flotilla"), _find(summary, case, hosts, peer)
        name = f"{case}, {hosts} hosts: {field[:-2]} ≤ {bound} × {peer}"
        if not theirs:
            rows.append((name, "no peer figure", "–"))
        elif not mine:
            rows.append((name, f"pending (≤ {bound * theirs[field]:.2f} s)", "–"))
        else:
            value = mine[field] / theirs[field]
            rows.append((name, f"{value:.2f}×", "met" if value <= bound else "NOT met"))

    ratio("full", 5, "parallel-ssh", 0.3)
    ratio("full", 20, "parallel-ssh", 0.5)
    ratio("full", 20, "openssh", 0.4)
    ratio("full", 20, "parallel-ssh", 0.3, field="cpu_s")
    mine = _find(summary, "full", 20, "flotilla")
    rows.append(("full, 20 hosts: peak memory < 30 MB",
                 f"{mine['max_rss_mb']:.1f} MB" if mine else "pending",
                 ("met" if mine["max_rss_mb"] < 30 else "NOT met") if mine else "–"))
    ratio("full", 50, "parallel-ssh", 0.5)
    big = max((s["hosts"] for s in summary if s["tool"] == "flotilla" and s["case"] == "full"
               and s["hosts"] >= 500), default=None)
    scale = _find(summary, "full", big, "flotilla") if big else None
    twenty = _find(summary, "full", 20, "flotilla")
    rows.append(("full, 500 hosts: completes, < 150 MB",
                 f"{scale['wall_s']:.1f} s, {scale['max_rss_mb']:.0f} MB" if scale else "pending",
                 ("met" if scale["max_rss_mb"] < 150 else "NOT met") if scale else "–"))
    name = "full, 500 hosts: time per host ≤ 2 × the 20-host figure"
    if scale and twenty:
        per_host, per_host_20 = scale["wall_s"] / big, twenty["wall_s"] / 20
        rows.append((name, f"{per_host * 1000:.0f} ms vs {per_host_20 * 1000:.0f} ms",
                     "met" if per_host <= 2 * per_host_20 else "NOT met"))
    else:
        rows.append((name, "pending", "–"))
    ratio("latency", latency_hosts, "parallel-ssh", 0.4)
    trips, floor = round_trip_floor(delay_ms)
    mine = _find(summary, "latency", latency_hosts, "flotilla")
    rows.append((f"latency: ≤ 1.2 × the round-trip floor ({trips} × {2 * delay_ms:.0f} ms = "
                 f"{floor:.2f} s)", f"{mine['wall_s'] / floor:.2f}× floor" if mine else "pending",
                 ("met" if mine["wall_s"] <= 1.2 * floor else "NOT met") if mine else "–"))
    lines = ["### Targets", "", "| target | Flotilla | status |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines)


def markdown(result):
    """Machine, command, every table and the targets, as docs/benchmarks.md shows them."""
    m = result["machine"]
    delay = result["round_trips"]["delay_ms_each_way"]
    peers = ", ".join(f"{k} {v}" for k, v in sorted(result.get("peers", {}).items()))
    lines = [f"Measured {result['started']} with `{result['command']}`.", "",
             f"- Machine: {m['nproc']} × {m['cpu']}, {m['memory_gib']} GiB, {m['os']}, "
             f"kernel {m['kernel']}; load average at start {m['load_avg_at_start'][0]:.2f}",
             f"- {m['openssh']}; libssh2 (Debian) {m['libssh2']}; Python {m['python']}; "
             f"open files limit {m['open_files_limit']}",
             f"- Peers: {peers}"]
    loads = sorted(r["load_1m"] for r in result["runs"] if "load_1m" in r)
    if loads:
        lines.append(f"- Load average (1 min) at the end of each run: median "
                     f"{statistics.median(loads):.1f}, {loads[0]:.1f}–{loads[-1]:.1f}; "
                     f"above {m['nproc']} the machine was busy with other work")
    lines.append("")
    summary = result["summary"]
    shown = sorted({(s["case"], s["hosts"]) for s in summary},
                   key=lambda k: (CASES.index(k[0]), k[1]))
    for case, hosts in shown:
        lines += [table(summary, result.get("unavailable", {}), case, hosts, delay), ""]
    lines.append(targets(summary, delay))
    return "\n".join(lines)


def merge(results):
    """One result from several runs of the harness: the first one's machine, every table."""
    merged = dict(results[0])
    merged["command"] = "`, `".join(r["command"] for r in results)
    merged["summary"] = [s for r in results for s in r["summary"]]
    merged["runs"] = [run for r in results for run in r["runs"]]
    merged["unavailable"] = {k: v for r in results for k, v in r.get("unavailable", {}).items()}
    return merged


if __name__ == "__main__":
    paths = sys.argv[1:] or [os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "results", "latest.json")]
    loaded = []
    for path in paths:
        with open(path) as f:
            loaded.append(json.load(f))
    print(markdown(merge(loaded)))
