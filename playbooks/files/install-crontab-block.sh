#!/usr/bin/env bash
# Puts the lines of BLOCK_FILE into the user's crontab between its first and last line (the
# BEGIN and END markers), replacing the block if it is already there, so running it again
# never adds a second copy, and every other crontab line is kept as it is.
# Settings: BLOCK_FILE.
set -euo pipefail

block=${BLOCK_FILE:?BLOCK_FILE is not set}
begin=$(head -n 1 "$block")
end=$(tail -n 1 "$block")

current=$(crontab -l 2>/dev/null || true)
{
    # Everything outside the old block, then the new block.
    awk -v begin="$begin" -v end="$end" '
        $0 == begin { skipping = 1; next }
        $0 == end && skipping { skipping = 0; next }
        !skipping { print }
    ' <<<"$current" | sed -e '/./,$!d'
    cat "$block"
} | crontab -
echo "crontab block installed:"
cat "$block"
