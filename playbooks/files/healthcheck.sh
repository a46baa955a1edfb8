#!/usr/bin/env bash
# Checks the site the way a visitor meets it, through nginx on this host (curl --resolve, so
# it works before DNS points here), plus the frontend process behind it.
# Settings: BACKEND_DOMAIN, FRONTEND_DOMAIN, FRONTEND_PORT, PM2_APP, STATIC_PROBE, and
# FAILURE_MARKER: a file removed once every check passes, so later steps can tell.
set -uo pipefail

failures=0

# expect URL STATUS [LOCATION]: the answer must have STATUS, and a redirect must point at a
# Location containing LOCATION.
expect() {
    local url=$1 status=$2 location=${3:-} host answer code target
    host=${url#*://}
    host=${host%%/*}
    answer=$(curl -sS -o /dev/null --max-time 10 --resolve "$host:443:127.0.0.1" \
        -w '%{http_code} %{redirect_url}' "$url") || answer="000 "
    code=${answer%% *}
    target=${answer#* }
    if [ "$code" != "$status" ]; then
        echo "FAIL $url answered $code, expected $status" >&2
        failures=$((failures + 1))
    elif [ -n "$location" ] && [[ "$target" != *"$location"* ]]; then
        echo "FAIL $url redirects to '$target', expected a Location with $location" >&2
        failures=$((failures + 1))
    else
        echo "ok   $url $code${target:+ -> $target}"
    fi
}

expect "https://$BACKEND_DOMAIN/robots.txt" 200
# Anonymous visitors are sent to the login page; a 200 here would mean auth is off.
expect "https://$BACKEND_DOMAIN/" 302 /login/
expect "https://$BACKEND_DOMAIN$STATIC_PROBE" 200
expect "http://127.0.0.1:$FRONTEND_PORT/login" 200
expect "https://$FRONTEND_DOMAIN/login" 200

pid=$(pm2 pid "$PM2_APP" 2>/dev/null || true)
if [ -n "$pid" ] && [ "$pid" -gt 0 ] 2>/dev/null; then
    echo "ok   pm2 $PM2_APP online (pid $pid)"
else
    echo "FAIL pm2 $PM2_APP is not running (pm2 logs $PM2_APP tells why)" >&2
    failures=$((failures + 1))
fi

if [ "$failures" -gt 0 ]; then
    echo "$failures health check(s) failed" >&2
    exit 1
fi
if [ -n "${FAILURE_MARKER:-}" ]; then
    rm -f -- "$FAILURE_MARKER"
fi
echo "healthy"
