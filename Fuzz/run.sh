#!/bin/sh
# Builds a parser of untrusted input with libFuzzer and feeds it random input.
#   Fuzz/run.sh [TARGET] [SECONDS]
# TARGET is one of
#   config       the configuration loader: YAML, inventory, playbook, plan (FlotillaConfig)
#   known_hosts  known_hosts text: parsing, host lookup, key checks (FlotillaSSH)
#   keys         private key text: normalising, PEM armor, OpenSSH and DER bodies (FlotillaSSH)
#   all          the three in turn (the default)
# SECONDS is how long each target runs (default 60). A number alone (`Fuzz/run.sh 120`) runs
# all three for that long each.
# New interesting inputs are kept in Fuzz/corpus/TARGET/, seeded with the test fixtures
# (config) or with keys and known_hosts lines made by ssh-keygen; a crash leaves its input
# in Fuzz/artifacts/ and makes the script fail. Leak detection is off: Foundation keeps a
# buffer when it reads an empty file, which is not a parser problem.
set -eu

case "${1:-all}" in
    [0-9]*) target=all; seconds="$1" ;;
    *) target="${1:-all}"; seconds="${2:-60}" ;;
esac
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.build/fuzz"
mkdir -p "$out" "$root/Fuzz/artifacts"

# The helpers every module imports, as a module of their own beside the one fuzzed.
build_support() {
    swiftc -sanitize=address -parse-as-library -O -g -module-name FlotillaSupport \
        -package-name flotilla -emit-module -emit-module-path "$out/FlotillaSupport.swiftmodule" \
        -emit-library -static -o "$out/libFlotillaSupport.a" \
        "$root"/Sources/FlotillaSupport/*.swift
}

# lld, because gold warns about every sanitizer symbol it cannot export.
build_config() {
    build_support
    swiftc -sanitize=fuzzer,address -parse-as-library -O -g -use-ld=lld \
        -module-name FlotillaConfig -package-name flotilla \
        -I "$out" -L "$out" -lFlotillaSupport \
        -I "$root/Sources/CYAML" -lyaml \
        "$root"/Sources/FlotillaConfig/*.swift "$root/Fuzz/FuzzConfigLoading.swift" \
        -o "$out/fuzz-config"
}

# $1: the entry file, $2: the binary.
build_ssh() {
    build_support
    swiftc -sanitize=fuzzer,address -parse-as-library -O -g -use-ld=lld \
        -module-name FlotillaSSH -package-name flotilla \
        -I "$out" -L "$out" -lFlotillaSupport \
        -I "$root/Sources/CLibSSH2" -I "$root/Sources/CCrypto" -lssh2 -lcrypto \
        "$root"/Sources/FlotillaSSH/*.swift "$root/Fuzz/$1" \
        -o "$out/$2"
}

seed_config() {
    find "$root/Tests/FlotillaConfigTests/Fixtures" -name '*.yml' -exec cp {} "$1/" \;
}

# Keys of every type and format the loader recognises, plain and encrypted.
seed_keys() {
    for spec in "ed25519" "ecdsa" "rsa -b 1024" "rsa -b 1024 -m PEM" "ecdsa -m PEM" \
        "ecdsa -m PKCS8" "rsa -b 1024 -m PKCS8"; do
        key="$(echo "$spec" | tr -d ' -')"
        # shellcheck disable=SC2086
        ssh-keygen -q -t $spec -N "" -C "" -f "$1/$key"
        mv "$1/$key.pub" "$1/$key-public"
    done
    ssh-keygen -q -t ed25519 -N "fuzzing" -C "" -f "$1/encrypted"
    ssh-keygen -q -t rsa -b 1024 -m PEM -N "fuzzing" -C "" -f "$1/encrypted-pem"
    rm -f "$1"/*.pub
    tr '\n' ' ' < "$1/ed25519" > "$1/one-line"
    sed 's/$/\r/' "$1/ecdsa" > "$1/crlf"
}

# known_hosts lines of every form: patterns, ports, negation, markers, hashed names, CRLF.
seed_known_hosts() {
    keys="$(mktemp -d)"
    ssh-keygen -q -t ed25519 -N "" -C "" -f "$keys/ed25519"
    ssh-keygen -q -t ecdsa -N "" -C "" -f "$keys/ecdsa"
    ssh-keygen -q -t rsa -b 1024 -N "" -C "" -f "$keys/rsa"
    ed="$(cut -d' ' -f1,2 "$keys/ed25519.pub")"
    ec="$(cut -d' ' -f1,2 "$keys/ecdsa.pub")"
    rsa="$(cut -d' ' -f1,2 "$keys/rsa.pub")"
    printf 'web-1 %s\n' "$ed" > "$1/plain"
    printf '[web-1]:2222,10.0.0.1 %s comment\n' "$ec" > "$1/port"
    printf '*.example.com,!bad.example.com %s\n' "$rsa" > "$1/patterns"
    printf '@revoked web-? %s\n@cert-authority *.example %s\n' "$ed" "$ec" > "$1/markers"
    printf '# comment\n\nweb-1 %s\r\n[web-1]:2222 %s\r\n' "$ed" "$ec" > "$1/crlf"
    printf 'web-1 %s\n[web-1]:2222 %s\n' "$ed" "$rsa" > "$keys/hashed"
    ssh-keygen -q -H -f "$keys/hashed" 2>/dev/null
    cp "$keys/hashed" "$1/hashed"
    rm -rf "$keys"
}

run_target() {
    name="$1"
    case "$name" in
        config) build_config; binary=fuzz-config; max_len=4096 ;;
        known_hosts) build_ssh FuzzKnownHosts.swift fuzz-known-hosts; binary=fuzz-known-hosts
            max_len=4096 ;;
        keys) build_ssh FuzzPrivateKeys.swift fuzz-keys; binary=fuzz-keys; max_len=8192 ;;
        *) echo "usage: Fuzz/run.sh [config|known_hosts|keys|all] [SECONDS]" >&2; exit 64 ;;
    esac
    seeds="$out/seeds-$name"
    rm -rf "$seeds" && mkdir -p "$seeds" "$root/Fuzz/corpus/$name"
    "seed_$name" "$seeds"
    dictionary="$root/Fuzz/$name.dict"
    set -- -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
        -print_final_stats=1 -artifact_prefix="$root/Fuzz/artifacts/"
    if [ -f "$dictionary" ]; then set -- "$@" -dict="$dictionary"; fi
    (cd "$out" && ASAN_OPTIONS=detect_leaks=0 "$out/$binary" "$@" \
        "$root/Fuzz/corpus/$name" "$seeds")
}

if [ "$target" = all ]; then
    for name in config known_hosts keys; do run_target "$name"; done
else
    run_target "$target"
fi
