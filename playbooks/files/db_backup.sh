#!/usr/bin/env bash
# Copies the SQLite database to Azure Blob Storage, from cron every night and from
# backup.yml on demand. It replaces scripts/azure_db_backup.sh of the application, which
# copied a WAL database with `cp` and put the SAS token on azcopy's command line.
#
# Settings (environment): DB_PATH, BACKUP_DIR, SECRETS_FILE (exports AZURE_BACKUP_SAS_URL,
# the container URL without a query, and AZURE_BACKUP_SAS_TOKEN, starting with `?`),
# LAST_BACKUP (where the blob name, size and checksum are recorded), KEEP_LOCAL.
set -euo pipefail

db=${DB_PATH:?DB_PATH is not set}
dir=${BACKUP_DIR:?BACKUP_DIR is not set}
secrets=${SECRETS_FILE:?SECRETS_FILE is not set}
record=${LAST_BACKUP:?LAST_BACKUP is not set}
keep=${KEEP_LOCAL:-7}

# shellcheck source=/dev/null
. "$secrets"
: "${AZURE_BACKUP_SAS_URL:?AZURE_BACKUP_SAS_URL is not set in $secrets}"
: "${AZURE_BACKUP_SAS_TOKEN:?AZURE_BACKUP_SAS_TOKEN is not set in $secrets}"

mkdir -p "$dir" "$(dirname "$record")"
chmod 0700 "$dir"
name="$(date -u +%Y-%m-%dT%H%M%SZ)_musicsamples_db.sqlite3"
copy="$dir/$name"

# The online backup API gives a consistent copy even while gunicorn writes.
sqlite3 "$db" ".backup '$copy'"
chmod 0600 "$copy"
check=$(sqlite3 "$copy" 'PRAGMA integrity_check;')
if [ "$check" != ok ]; then
    echo "the copy of $db fails SQLite's integrity check: $check" >&2
    exit 1
fi
size=$(stat -c %s "$copy")
sum=$(sha256sum "$copy" | cut -d ' ' -f 1)

# The URL with its SAS token goes to curl on stdin (-K -), never on the command line,
# where `ps` would show it to every user of the host.
status=$(printf 'url = "%s/%s%s"\n' "$AZURE_BACKUP_SAS_URL" "$name" "$AZURE_BACKUP_SAS_TOKEN" |
    curl -sS -K - -X PUT -T "$copy" -o /dev/null -w '%{http_code}' --max-time 600 \
        -H 'x-ms-blob-type: BlockBlob' -H 'x-ms-version: 2021-08-06')
if [ "$status" != 201 ]; then
    echo "Azure answered HTTP $status to the upload of $name (403: the SAS token has expired" \
        "or lacks write permission)" >&2
    exit 1
fi
printf '%s %s %s\n' "$name" "$size" "$sum" >"$record"
echo "uploaded $name ($size bytes, sha256 $sum)"

# Keep the newest local copies for a quick restore; the blob store keeps the rest.
find "$dir" -maxdepth 1 -name '*_musicsamples_db.sqlite3' -printf '%f\n' | sort |
    head -n "-$keep" | while read -r old; do
        rm -f -- "${dir:?}/$old"
    done
