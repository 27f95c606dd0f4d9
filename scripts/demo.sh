#!/usr/bin/env bash
# PoetFlow's main job on the bundled example monorepo (examples/demo), from a fresh machine.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
exec .venv/bin/python scripts/demo.py "$@"
