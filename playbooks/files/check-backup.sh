#!/usr/bin/env bash
# Asks Azure for the blob the last backup uploaded and compares its size with the local
# copy's. Needs a SAS token with read permission; a write-only token gets 403.
# Settings: SECRETS_FILE, LAST_BACKUP.
set -euo pipefail

secrets=${SECRETS_FILE:?SECRETS_FILE is not set}
record=${LAST_BACKUP:?LAST_BACKUP is not set}

# shellcheck source=/dev/null
. "$secrets"
read -r name size _ <"$record" || {
    echo "no backup recorded in $record: run the backup first" >&2
    exit 1
}

answer=$(printf 'url = "%s/%s%s"\n' "$AZURE_BACKUP_SAS_URL" "$name" "$AZURE_BACKUP_SAS_TOKEN" |
    curl -sS -K - --head -o /dev/null --max-time 60 -H 'x-ms-version: 2021-08-06' \
        -w '%{http_code} %header{content-length}')
status=${answer%% *}
length=${answer#* }
case $status in
    200) ;;
    403)
        echo "Azure refused to show $name (403): the SAS token needs read permission" \
            "for this check" >&2
        exit 1
        ;;
    404)
        echo "$name is not in the container: the upload did not arrive" >&2
        exit 1
        ;;
    *)
        echo "Azure answered HTTP $status for $name" >&2
        exit 1
        ;;
esac
if [ "$length" != "$size" ]; then
    echo "$name is $length bytes in Azure but $size bytes here: upload it again" >&2
    exit 1
fi
echo "$name arrived: $length bytes"
