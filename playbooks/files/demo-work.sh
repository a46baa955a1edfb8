#!/usr/bin/env bash
# The demo's slow step: about three seconds of visible work, so the live view has
# something to show. It counts the files the demo put in place and checks their modes.
set -euo pipefail

folder=${DEMO_DIR:?DEMO_DIR is not set}
# The playbook says ~/flotilla-demo; a variable's value is not tilde-expanded by bash.
folder=${folder/#\~/$HOME}
for second in 1 2 3; do
    echo "working on $(hostname -s) as $(id -un): step $second of 3"
    sleep 1
done

files=$(find "$folder" -maxdepth 1 -type f | wc -l)
token_mode=$(stat -c %a "$folder/token")
if [ "$token_mode" != 600 ]; then
    echo "the token is mode $token_mode; Flotilla writes secrets 0600" >&2
    exit 1
fi
echo "$files files in $folder; the token is mode $token_mode, readable by $(id -un) only"
