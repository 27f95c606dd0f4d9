"""The README's main job: PoetFlow on a fresh copy of examples/demo.

The example is copied into a temporary git repository so that the run (versions,
tags, dist/) never touches this checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
POETFLOW = [sys.executable, "-m", "poetflow"]


def _git(cwd: Path, *args: str) -> None:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "PoetFlow Demo",
        "GIT_AUTHOR_EMAIL": "demo@poetflow.invalid",
        "GIT_COMMITTER_NAME": "PoetFlow Demo",
        "GIT_COMMITTER_EMAIL": "demo@poetflow.invalid",
    }
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True)


def _step(title: str, *args: str, cwd: Path) -> None:
    print(f"\n$ poetflow {' '.join(args)}    # {title}", flush=True)
    completed = subprocess.run([*POETFLOW, *args], cwd=cwd, check=False)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="poetflow-demo-") as tmp:
        work = Path(tmp) / "demo"
        shutil.copytree(REPO / "examples" / "demo", work)
        _git(work, "init", "-q", "-b", "main")
        _git(work, "add", "-A")
        _git(work, "commit", "-q", "-m", "chore: import the demo monorepo")
        print(f"Demo monorepo copied to {work}")
        _step("the packages", "discover", cwd=work)
        _step("the dependency graph", "graph", cwd=work)
        _step("the graph for docs", "graph", "--format", "mermaid", cwd=work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
