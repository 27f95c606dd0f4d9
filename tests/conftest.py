"""Fixtures shared by the whole suite: real git repositories and the CLI run in-process."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = REPO_ROOT / "examples"
FIXTURE_WORKSPACES = Path(__file__).resolve().parent / "fixtures" / "workspaces"

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "PoetFlow Tests",
    "GIT_AUTHOR_EMAIL": "tests@poetflow.invalid",
    "GIT_COMMITTER_NAME": "PoetFlow Tests",
    "GIT_COMMITTER_EMAIL": "tests@poetflow.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


_SCRUBBED_PREFIXES = (
    "POETFLOW_",
    "POETRY_PYPI_TOKEN",
    "POETRY_HTTP_BASIC",
    "POETRY_REPOSITORIES_",
    "GITHUB_",
    "GITLAB_",
    "INPUT_",
    "OTEL_",
    "ACTIONS_ID_TOKEN",
    "SIGSTORE_ID_TOKEN",
    # A GitLab job's own token and project: the announce stage would make real releases.
    "CI_JOB_TOKEN",
    "CI_API_V4_URL",
    "CI_PROJECT_ID",
    "CI_PROJECT_PATH",
    # The other CI systems PoetFlow detects: a test decides which one it runs in.
    "TF_BUILD",
    "BITBUCKET_",
    "JENKINS_",
)


@pytest.fixture(autouse=True)
def _isolated_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No test sees the developer's git config, credentials or pip configuration."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for key, value in _GIT_ENV.items():
        monkeypatch.setenv(key, value)
    for key in list(os.environ):
        if key.startswith(_SCRUBBED_PREFIXES):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    # Nor Poetry's stored credentials: its config folder lives under the fresh HOME, and
    # the keyring is the null backend unless a test selects its own.
    for key in ("POETRY_CONFIG_DIR", "XDG_CONFIG_HOME", "POETRY_KEYRING_ENABLED"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` and return its stdout."""
    env = {**os.environ, **_GIT_ENV}
    completed = subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return completed.stdout.strip()


def init_repo(path: Path) -> Path:
    """Make ``path`` a git repository with one commit holding its current content."""
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "PoetFlow Tests")
    git(path, "config", "user.email", "tests@poetflow.invalid")
    git(path, "config", "commit.gpgsign", "false")
    git(path, "add", "-A")
    git(path, "commit", "-q", "--allow-empty", "-m", "chore: initial commit")
    return path


def tree_state(root: Path) -> tuple[str, list[tuple[str, int, int]]]:
    """What a command could have changed: git's view (ignored files too, without letting
    git refresh its index) and every path below ``root`` with its size and mtime."""
    status = subprocess.run(
        ["git", "--no-optional-locks", "status", "--porcelain", "--ignored", "-uall"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    paths = []
    for path in sorted(root.rglob("*")):
        stat = path.lstat()
        paths.append((path.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns))
    return status.stdout + status.stderr, paths


def copy_tree(source: Path, target: Path) -> Path:
    ignore = shutil.ignore_patterns("dist", ".venv", "__pycache__", "*.pyc", ".poetflow")
    shutil.copytree(source, target, ignore=ignore)
    return target


@pytest.fixture
def demo_repo(tmp_path: Path) -> Path:
    """A fresh git repository holding a copy of examples/demo."""
    return init_repo(copy_tree(EXAMPLES / "demo", tmp_path / "demo"))


@pytest.fixture
def fixture_workspace(tmp_path: Path) -> Callable[[str], Path]:
    """Copy a scenario from tests/fixtures/workspaces into a fresh git repository."""

    def make(name: str, *, with_git: bool = True) -> Path:
        target = copy_tree(FIXTURE_WORKSPACES / name, tmp_path / name)
        return init_repo(target) if with_git else target

    return make


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``poetflow`` in-process, as the console script would, and capture its output."""
    from poetflow.cli.app import main

    def run(*args: str | Path, cwd: Path | None = None) -> CliResult:
        previous = Path.cwd()
        if cwd is not None:
            os.chdir(cwd)
        capsys.readouterr()
        try:
            try:
                main([str(arg) for arg in args])
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        finally:
            os.chdir(previous)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
