#!/usr/bin/env bash
# Proves that only SSH, HTTP and HTTPS are reachable from outside: Next.js (3000) and Redis
# (6379) must listen on loopback only, and the firewall must be on with nothing else open.
# Run as root (ufw status needs it).
set -euo pipefail

failures=0
for port in 3000 6379; do
    # Local addresses of listening TCP sockets on this port, e.g. 127.0.0.1:3000, [::1]:6379.
    addresses=$(ss -ltnH "sport = :$port" | awk '{ print $4 }')
    for address in $addresses; do
        case $address in
            127.0.0.1:* | \[::1\]:* | \[::ffff:127.0.0.1\]:*) ;;
            *)
                echo "FAIL port $port listens on $address, reachable from outside" >&2
                failures=$((failures + 1))
                ;;
        esac
    done
    echo "ok   port $port: ${addresses:-not listening}" | tr '\n' ' '
    echo
done

status=$(ufw status)
if ! grep -q '^Status: active' <<<"$status"; then
    echo "FAIL ufw is not active" >&2
    failures=$((failures + 1))
fi
# Every ALLOW rule must be for 22, 80 or 443 (OpenSSH is ufw's name for 22).
unexpected=$(grep ' ALLOW ' <<<"$status" |
    grep -Ev '^(22|80|443)(/tcp)?( \(v6\))? |^OpenSSH( \(v6\))? ' || true)
if [ -n "$unexpected" ]; then
    echo "FAIL ufw allows more than 22, 80 and 443:" >&2
    echo "$unexpected" >&2
    failures=$((failures + 1))
fi

if [ "$failures" -gt 0 ]; then
    exit 1
fi
echo "ok   only 22, 80 and 443 are open"
