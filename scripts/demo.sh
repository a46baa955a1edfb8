#!/usr/bin/env bash
# Installs what is missing, builds, starts the local sandbox fleet, and runs the demo on it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
swift build -c release --product flotilla
flotilla=.build/release/flotilla
"$flotilla" sandbox up 3 --inventory inventory/sandbox.yml
"$flotilla" run playbooks/demo.yml -i inventory/sandbox.yml
