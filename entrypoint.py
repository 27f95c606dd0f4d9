"""Container entrypoint: the image's thin adapter over ``poetflow.ci.container``."""

from __future__ import annotations

import sys

from poetflow.ci.container import run_container

if __name__ == "__main__":
    sys.exit(run_container(sys.argv[1:]))
