"""``poetflow-action``: one poetflow command from CI inputs, its report handed to the CI system.

The console script behind the image's entrypoint, and what GitLab, Jenkins, Azure Pipelines,
Bitbucket and plain shell jobs call outside the image: action inputs (``INPUT_<NAME>``) or
``POETFLOW_*`` variables (or its own arguments) become one poetflow command line, and the run
report becomes the CI system's outputs, summary, annotations or dotenv report.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NoReturn

from poetflow.ci.container import run_container

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> NoReturn:
    """Run ``poetflow-action [ARGS...]`` and exit with poetflow's exit code."""
    sys.exit(run_container(sys.argv[1:] if argv is None else list(argv)))
