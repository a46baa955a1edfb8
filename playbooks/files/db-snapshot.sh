#!/usr/bin/env bash
# Takes a consistent copy of the SQLite database before migrations touch it, with SQLite's
# online backup (a plain `cp` of a WAL database can miss committed transactions), and keeps
# the newest KEEP copies.
# Settings: DB_PATH, SNAPSHOT_DIR, KEEP, and REQUIRE_DB=1 when a missing database means a
# wrong path rather than a first install.
set -euo pipefail

db=${DB_PATH:?DB_PATH is not set}
dir=${SNAPSHOT_DIR:?SNAPSHOT_DIR is not set}
keep=${KEEP:-10}

if [ ! -s "$db" ]; then
    if [ "${REQUIRE_DB:-0}" = 1 ]; then
        # Migrating now would create a new, empty database beside the real one.
        echo "no database at $db: check db_path in the inventory before deploying" >&2
        exit 1
    fi
    echo "no database at $db yet (first install): nothing to snapshot"
    exit 0
fi

mkdir -p "$dir"
chmod 0700 "$dir"
snapshot="$dir/pre-migrate-$(date -u +%Y%m%dT%H%M%SZ).sqlite3"
sqlite3 "$db" ".backup '$snapshot'"
chmod 0600 "$snapshot"
echo "snapshot: $snapshot"

# Oldest first; keep the newest $keep.
find "$dir" -maxdepth 1 -name 'pre-migrate-*.sqlite3' -printf '%f\n' | sort | head -n "-$keep" |
    while read -r old; do
        rm -f -- "${dir:?}/$old"
    done
