"""Fixtures for the CI runner tests: runners installed and started once per session.

These tests skip only where the machine truly cannot run them (not root: apt, rootful podman).
With ``CI=true`` even that is a failure: a CI run that skips them proves nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
TESTS = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(TESTS))  # index_server
sys.path.insert(0, str(TESTS / "container"))  # podman_image
sys.path.insert(0, str(TESTS / "signing"))  # sigstore_double

import runners  # noqa: E402
from monorepos import make_monorepo  # noqa: E402
from podman_image import base_image, build_image, image_exists, podman_env  # noqa: E402
from runners import REPO, Act  # noqa: E402

RUNNER_IMAGE = "localhost/poetflow-ci-runner:test"
ACTION_IMAGE = "localhost/poetflow:test"


def unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the CI runner tests", pytrace=False)
    pytest.skip(reason)


def require_root() -> None:
    if os.geteuid() != 0:
        unavailable("the CI runner tests need root (apt-get, rootful podman with runc)")


@pytest.fixture(scope="session")
def debian_tools() -> None:
    """podman, runc, mmdebstrap, rsync, Groovy, a JRE and npm from Debian."""
    require_root()
    runners.ensure_debian_packages()


@pytest.fixture(scope="session")
def node_tools(debian_tools: None) -> Path:
    """Node 22 with gitlab-ci-local and npm-groovy-lint (npm, cached between sessions)."""
    return runners.ensure_node_tools()


@pytest.fixture(scope="session")
def action_image(debian_tools: None) -> str:
    """The action's image built once, which also warms the layer cache act builds from."""
    if not image_exists(base_image()):
        setup = subprocess.run(
            [str(REPO / "scripts" / "container-setup.sh")],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        assert setup.returncode == 0, setup.stderr[-3000:]
    failure = build_image(ACTION_IMAGE)
    assert failure is None, f"podman build failed:\n{failure}"
    # act would build the same Dockerfile once per job; it takes this one instead.
    subprocess.run(["podman", "tag", ACTION_IMAGE, runners.ACT_IMAGE], env=podman_env(), check=True)
    return ACTION_IMAGE


@pytest.fixture(scope="session")
def runner_image(action_image: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The stand-in for ubuntu-latest, with this checkout's wheel and its dependencies in a
    wheelhouse that pip uses instead of PyPI (see runner_image/Containerfile)."""
    context = tmp_path_factory.mktemp("runner-image")
    shutil.copy(HERE / "runner_image" / "Containerfile", context / "Containerfile")
    # The machine's pip configuration (a local wheel folder) makes this quick.
    env = {k: v for k, v in os.environ.items() if k != "PIP_CONFIG_FILE"}
    wheels = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir",
         str(context / "wheelhouse"), str(REPO), "pip", "setuptools", "wheel"],
        env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False,
    )  # fmt: skip
    assert wheels.returncode == 0, wheels.stderr[-3000:]
    failure = build_image(RUNNER_IMAGE, context)
    assert failure is None, f"podman build of the runner stand-in failed:\n{failure}"
    return RUNNER_IMAGE


@pytest.fixture(scope="session")
def docker_host(debian_tools: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """podman's Docker API on a socket of this session, for act."""
    with runners.podman_socket(tmp_path_factory.mktemp("podman"), podman_env()) as host:
        yield host


@pytest.fixture(scope="session")
def act(docker_host: str, runner_image: str, tmp_path_factory: pytest.TempPathFactory) -> Act:
    return Act(docker_host, runner_image, tmp_path_factory.mktemp("act-home"))


@pytest.fixture(scope="session")
def poetry_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One Poetry cache for the jobs that run on this host, as a CI runner's cache would be:
    each job still resolves and installs, without downloading the same wheels again."""
    return tmp_path_factory.mktemp("poetry-cache")


@pytest.fixture
def monorepo(tmp_path: Path) -> Callable[[str], Path]:
    def make(origin_url: str) -> Path:
        return make_monorepo(tmp_path / "demo", origin_url)

    return make
