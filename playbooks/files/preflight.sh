#!/usr/bin/env bash
# Refuses to go on when the host is too short of disk or memory for a deploy: `next build`
# plus pip and the gunicorn workers have run this VM out of memory before.
# Settings: CHECK_DIR, MIN_FREE_DISK_MB, MIN_FREE_MEMORY_MB.
set -euo pipefail

check_dir=${CHECK_DIR:?CHECK_DIR is not set}
min_disk=${MIN_FREE_DISK_MB:?MIN_FREE_DISK_MB is not set}
min_memory=${MIN_FREE_MEMORY_MB:?MIN_FREE_MEMORY_MB is not set}

# On a fresh host the install folder does not exist yet: measure the nearest folder that does.
while [ ! -d "$check_dir" ]; do
    check_dir=$(dirname "$check_dir")
done

free_disk=$(df --output=avail -m "$check_dir" | tail -n 1 | tr -d ' ')
if [ "$free_disk" -lt "$min_disk" ]; then
    echo "only ${free_disk} MB free on the file system of $check_dir; the deploy needs" \
        "${min_disk} MB (min_free_disk_mb). Free space (old backups in ~/db_backups," \
        "journalctl --vacuum-size) and run again." >&2
    exit 1
fi

# Swap counts: it is what keeps a build alive on a small VM.
free_memory=$(awk '/^MemAvailable:|^SwapFree:/ { kb += $2 } END { print int(kb / 1024) }' \
    /proc/meminfo)
if [ "$free_memory" -lt "$min_memory" ]; then
    echo "only ${free_memory} MB of memory and swap available; the build needs" \
        "${min_memory} MB (min_free_memory_mb). Add swap (swap_size) or stop what uses it." >&2
    exit 1
fi

echo "disk: ${free_disk} MB free on $check_dir; memory and swap: ${free_memory} MB available"
