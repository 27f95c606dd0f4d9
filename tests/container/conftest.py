"""The runner image, built once per session with podman (see /work/shared/CONTAINER.md).

No podman here means a failed test, unless POETFLOW_SKIP_CONTAINER_TESTS=1 says to skip:
a CI machine that silently skips would never notice a broken image.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
# Another checkout on the same machine may build its own: POETFLOW_TEST_IMAGE names ours.
IMAGE = os.environ.get("POETFLOW_TEST_IMAGE", "localhost/poetflow:test")
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))  # tests/index_server.py
sys.path.insert(0, str(HERE.parent / "ci"))  # ci_helpers

from container_helpers import Run  # noqa: E402
from podman_image import base_image, build_image, image_exists, podman_env  # noqa: E402


def _unavailable(reason: str) -> None:
    if os.environ.get("POETFLOW_SKIP_CONTAINER_TESTS") == "1":
        pytest.skip(f"container tests skipped (POETFLOW_SKIP_CONTAINER_TESTS=1): {reason}")
    pytest.fail(
        f"{reason}. Run scripts/container-setup.sh as root, or set "
        "POETFLOW_SKIP_CONTAINER_TESTS=1 to skip the container tests on purpose.",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def image() -> str:
    """Build the image from this checkout (layers cached between sessions)."""
    podman = shutil.which("podman")
    if podman is None:
        _unavailable("podman is not installed")
    assert podman is not None
    if os.geteuid() != 0:
        _unavailable("the container tests need root (rootful podman with runc)")
    if not image_exists(base_image()):
        _unavailable(f"the base image {base_image()} is missing (no registry is reachable)")
    failure = build_image(IMAGE)
    if failure is not None:
        pytest.fail(f"podman build failed:\n{failure}")
    return IMAGE


@pytest.fixture
def run_image(image: str) -> Callable[..., Run]:
    """``podman run --rm`` the image with volumes, env, a user and a network mode."""

    def run(
        *args: str,
        volumes: Sequence[tuple[Path, str]] = (),
        env: dict[str, str] | None = None,
        user: str | None = None,
        network: str = "none",
        workdir: str = "/github/workspace",
        timeout: float = 300,
    ) -> Run:
        command = ["podman", "run", "--rm", "--network", network, "-w", workdir]
        for source, target in volumes:
            command += ["-v", f"{source}:{target}"]
        for key, value in (env or {}).items():
            command += ["-e", f"{key}={value}"]
        if user:
            command += ["--user", user]
        completed = subprocess.run(
            [*command, image, *args],
            env=podman_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        return Run(completed.returncode, completed.stdout, completed.stderr)

    return run
