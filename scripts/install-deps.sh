#!/usr/bin/env bash
# Installs the Debian packages Flotilla builds and tests with, when they are missing.
set -euo pipefail

packages=(libssh2-1-dev libyaml-dev libssl-dev pkg-config openssh-server openssh-client
          sudo procps)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    echo "installing: ${missing[*]}"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v swift >/dev/null 2>&1; then
    echo "error: no Swift toolchain on PATH; install Swift 6 (swift.org) and try again" >&2
    exit 1
fi
