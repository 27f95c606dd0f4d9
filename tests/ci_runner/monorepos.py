"""The demo monorepo as a git repository with release history and an ``origin`` to push to."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from runners import GIT_IDENTITY, REPO


def git(cwd: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **GIT_IDENTITY, "GIT_CONFIG_NOSYSTEM": "1"},
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip()


RELEASED = {
    "acme-core": "1.2.0",
    "acme-http": "0.4.1",
    "acme-storage": "2.0.3",
    "acme-app": "0.9.0",
}


def make_monorepo(path: Path, origin_url: str) -> Path:
    """examples/demo as a repository: a released first commit (tags), then a fix to acme-core
    on main, pushed to ``origin``. ``origin_url`` is what the CI host would show (act and
    gitlab-ci-local read the project from it); git pushes to a bare repository kept inside
    ``.git`` instead, so that a job container which mounts the work tree can push to it too."""
    ignore = shutil.ignore_patterns("dist", ".venv", "__pycache__", "*.pyc", ".poetflow")
    shutil.copytree(REPO / "examples" / "demo", path, ignore=ignore)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "commit.gpgsign", "false")
    # What CI runners leave in the work tree, never part of the monorepo.
    with (path / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write(".gitlab-ci-local/\n.gitlab-ci-local-variables.yml\n")
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "feat: the Acme demo monorepo")
    for name, version in RELEASED.items():
        git(path, "tag", "-a", "-m", f"{name} {version}", f"{name}-v{version}")
    money = path / "packages" / "core" / "src" / "acme_core" / "__init__.py"
    money.write_text(money.read_text() + "\n# Rounding follows the banker's rule.\n")
    git(path, "commit", "-q", "-am", "fix(core): document the rounding rule")
    bare = path / ".git" / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    # pushInsteadOf, not insteadOf: `git remote get-url origin` (how the runners find the
    # project) must still show the hosted URL.
    git(path, "config", f"url.{bare}.pushInsteadOf", origin_url)
    git(path, "remote", "add", "origin", origin_url)
    git(path, "push", "-q", "origin", "main", "--tags")
    git(path, "fetch", "-q", str(bare), "+refs/heads/*:refs/remotes/origin/*")
    git(path, "remote", "set-head", "origin", "main")
    return path


def feature_branch(path: Path, name: str = "feature/http-retries") -> str:
    """A pull/merge request branch changing acme-http (so acme-app is affected too)."""
    git(path, "checkout", "-q", "-b", name)
    http = path / "packages" / "http" / "src" / "acme_http" / "__init__.py"
    http.write_text(http.read_text() + "\nRETRIES = 3\n")
    git(path, "commit", "-q", "-am", "feat(http): retry idempotent requests")
    return name


def remote_tags(path: Path) -> set[str]:
    return set(git(path / ".git" / "origin.git", "tag", "--list").split())
