"""``python -m poetflow``."""

from __future__ import annotations

from poetflow.cli.launch import main

main()
