"""Build and run the runner image with podman, as this kind of VM needs (CONTAINER.md).

Shared by the container tests and the CI runner tests (act builds the same Dockerfile).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CONTAINERS_CONF = HERE / "containers.conf"


def podman_env() -> dict[str, str]:
    # runc and explicit ulimits: what this kind of VM needs. Storage stays at podman's
    # default (CONTAINERS_STORAGE_CONF makes every run hang, a podman bug).
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def base_image() -> str:
    """The Dockerfile's (first) FROM image."""
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.upper().startswith("FROM "):
            return line.split()[1]
    raise AssertionError("Dockerfile has no FROM")


def image_exists(name: str) -> bool:
    exists = subprocess.run(["podman", "image", "exists", name], env=podman_env(), check=False)
    return exists.returncode == 0


def build_image(tag: str, context: Path = REPO, *, timeout: float = 1200) -> str | None:
    """``podman build`` (layers cached); None on success, else the end of its output."""
    built = subprocess.run(
        [
            "podman",
            "build",
            "--pull=never",
            "--network",
            "host",
            "--quiet",
            "-t",
            tag,
            str(context),
        ],
        env=podman_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if built.returncode != 0:
        return f"{built.stdout[-3000:]}\n{built.stderr[-3000:]}"
    return None
