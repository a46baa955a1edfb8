#!/usr/bin/env bash
# Comments out every sudoers line that lets DEPLOY_USER run anything as root without a
# password (Azure's first boot writes one for the VM's admin user), then checks the whole
# sudo configuration. A changed file keeps its old text beside it under a dotted name,
# which sudo ignores, like every file whose name holds a dot or ends in `~`.
# Settings: DEPLOY_USER, SUDOERS_DIR. Runs as root.
set -euo pipefail

user=${DEPLOY_USER:?DEPLOY_USER is not set}
dir=${SUDOERS_DIR:?SUDOERS_DIR is not set}
pattern="^${user}[[:space:]].*NOPASSWD:[[:space:]]*ALL[[:space:]]*\$"

changed=0
for file in "$dir"/*; do
    case ${file##*/} in
        *.* | *~) continue ;;
    esac
    if grep -Eq "$pattern" "$file"; then
        sed -i.flotilla-removed -E "s/^(${pattern#^})/# \\1/" "$file"
        echo "commented out password-less sudo for everything in $file"
        changed=1
    fi
done
visudo -c -q
if [ "$changed" = 0 ]; then
    echo "no password-less sudo for everything left for $user"
fi
