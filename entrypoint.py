"""Container entrypoint from a checkout: ``python entrypoint.py`` is ``poetflow-action``."""

from __future__ import annotations

from poetflow.ci.action import main

if __name__ == "__main__":
    main()
