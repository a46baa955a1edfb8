#!/bin/sh
# Builds the configuration loader with libFuzzer and feeds it random input.
#   Fuzz/run.sh [SECONDS]      (default 60)
# New interesting inputs are kept in Fuzz/corpus/ (seeded with the test fixtures); a crash
# leaves its input in Fuzz/artifacts/ and makes the script fail. Leak detection is off:
# Foundation keeps a buffer when it reads an empty file, which is not a loader problem.
set -eu

seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.build/fuzz"
mkdir -p "$out" "$root/Fuzz/corpus" "$root/Fuzz/artifacts"

swiftc -sanitize=fuzzer,address -parse-as-library -O -g \
    -module-name FlotillaConfig \
    -I "$root/Sources/CYAML" -lyaml \
    "$root"/Sources/FlotillaConfig/*.swift "$root/Fuzz/FuzzConfigLoading.swift" \
    -o "$out/fuzz-config"

seeds="$out/seeds"
rm -rf "$seeds" && mkdir -p "$seeds"
find "$root/Tests/FlotillaConfigTests/Fixtures" -name '*.yml' -exec cp {} "$seeds/" \;

cd "$out"
ASAN_OPTIONS=detect_leaks=0 "$out/fuzz-config" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=4096 -artifact_prefix="$root/Fuzz/artifacts/" \
    "$root/Fuzz/corpus" "$seeds"
