"""``python -m poetflow``."""

from __future__ import annotations

from poetflow.cli.app import main

main()
