#!/usr/bin/env bash
# Installs the pinned Node with nvm, then the pinned pnpm and pm2 under it, and points
# $NVM_DIR/current at that Node so PATH (the inventory's `path`) and the pm2 boot unit never
# name a version.
# Settings: NVM_DIR, NODE_VERSION, PNPM_VERSION, PM2_VERSION.
# No `set -eu` while nvm is loaded: nvm does not support either.
set -o pipefail

: "${NVM_DIR:?NVM_DIR is not set}" "${NODE_VERSION:?}" "${PNPM_VERSION:?}" "${PM2_VERSION:?}"
export NVM_DIR
# shellcheck source=/dev/null
. "$NVM_DIR/nvm.sh" || { echo "cannot load $NVM_DIR/nvm.sh" >&2; exit 1; }

nvm install "$NODE_VERSION" || exit 1
nvm alias default "$NODE_VERSION" || exit 1
node_dir="$NVM_DIR/versions/node/v$NODE_VERSION"
ln -sfn "$node_dir" "$NVM_DIR/current" || exit 1

# Global packages live under one Node version: install them under this one.
PATH="$node_dir/bin:$PATH"
if [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ] ||
    [ "$(pm2 --version 2>/dev/null | tail -n 1)" != "$PM2_VERSION" ]; then
    npm install --global --no-fund --no-audit "pnpm@$PNPM_VERSION" "pm2@$PM2_VERSION" || exit 1
fi
echo "node $(node --version), pnpm $(pnpm --version), pm2 $(pm2 --version | tail -n 1)"
