#!/usr/bin/env bash
# Create (or refresh) .venv with PoetFlow and its development tools.
# Idempotent and quick when nothing changed: the install is skipped while
# pyproject.toml keeps the hash recorded by the last successful install.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${POETFLOW_VENV:-.venv}"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "error: PoetFlow needs Python 3.10 or newer; set PYTHON=/path/to/python3.11." >&2
    exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.poetflow-installed"
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    # pip >= 25.1 understands PEP 735 dependency groups (--group).
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip>=25.1"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e . --group dev
    echo "$wanted" > "$stamp"
fi
