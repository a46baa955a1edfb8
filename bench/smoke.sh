#!/usr/bin/env bash
# A quick check that the benchmark harness works: the minimal case on 2 hosts, one run, no
# warm-up, with whichever peers bench/.venv already holds (no network needed), and Flotilla
# when its release binary exists. Needs root, like the harness. Exits non-zero when a tool
# that is available fails or a host key change goes unnoticed.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d /tmp/flotilla-bench-smoke.XXXXXX)"
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
python3 bench/run.py --no-install --hosts 2 --cases minimal --runs 1 --warmup 0 \
    --work "$work" --results "$work/results" --users flsmoke "$@"
python3 bench/run.py --no-install --prove-host-keys --hosts 2 --work "$work" --users flsmoke "$@"
