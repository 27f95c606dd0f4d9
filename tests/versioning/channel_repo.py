"""A monorepo with pre-release channels, a bare ``origin`` and helpers to commit on branches."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from textwrap import dedent
from typing import Any

from version_history import git

CHANNELS = """
[tool.poetflow.channels]
next = { branch = "next", prerelease = "rc" }
beta = { branch = "beta/*", prerelease = "b" }
"""


def _package(root: Path, name: str, version: str, requires: str = "", source: str = "") -> None:
    directory = root / "packages" / name
    (directory / "src" / name).mkdir(parents=True)
    (directory / "src" / name / "__init__.py").write_text(f'NAME = "{name}"\n')
    text = f"""
        [project]
        name = "{name}"
        version = "{version}"
        description = "Channel test package {name}."
        requires-python = ">=3.10"
        dependencies = [{requires}]

        [tool.poetry]
        packages = [{{ include = "{name}", from = "src" }}]
        {source}
        [build-system]
        requires = ["poetry-core>=2.0"]
        build-backend = "poetry.core.masonry.api"
        """
    (directory / "pyproject.toml").write_text(dedent(text).lstrip())


def build_channel_repo(base: Path, extra_config: str = "") -> Path:
    """``base/mono`` (main, pushed to the bare ``base/origin.git``): lib 0.1.0, core 1.4.0
    and app 0.5.0 (``core>=1.4,<2`` with a path source), each tagged as released."""
    root = base / "mono"
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        '[tool.poetflow]\npackages = ["packages/*"]\n' + extra_config + CHANNELS
    )
    (root / ".gitignore").write_text("dist/\n.poetflow/\npoetflow-report*/\n")
    _package(root, "lib", "0.1.0")
    _package(root, "core", "1.4.0")
    _package(
        root,
        "app",
        "0.5.0",
        requires='"core>=1.4,<2"',
        source='\n[tool.poetry.dependencies]\ncore = { path = "../core", develop = true }\n',
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "config", "tag.gpgsign", "false")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "chore: initial commit")
    for tag in ("lib-v0.1.0", "core-v1.4.0", "app-v0.5.0"):
        git(root, "tag", "-a", tag, "-m", tag)
    git(base, "init", "-q", "--bare", "origin.git")
    git(root, "remote", "add", "origin", str(base / "origin.git"))
    git(root, "push", "-q", "origin", "main", "--tags")
    return root


def commit_change(root: Path, package: str, message: str) -> None:
    path = root / "packages" / package / "src" / package / "changes.py"
    previous = path.read_text() if path.exists() else ""
    path.write_text(previous + f"# {message}\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", message)


def bump(run_cli: Callable[..., Any], root: Path, *args: str) -> dict[str, Any]:
    """``poetflow version bump ARGS --json``; the plan with packages by name."""
    result = run_cli("version", "bump", *args, "--json", cwd=root)
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    data["by_name"] = {entry["name"]: entry for entry in data["packages"]}
    return data


def release(run_cli: Callable[..., Any], root: Path, *args: str) -> dict[str, Any]:
    """A real release: versions, changelogs, commit and tags."""
    return bump(run_cli, root, "--changelog", "--commit", "--tag", *args)


def version_of(root: Path, package: str) -> str:
    text = (root / "packages" / package / "pyproject.toml").read_text()
    return text.split('version = "', 1)[1].split('"', 1)[0]


def origin_tags(base: Path) -> set[str]:
    return set(git(base / "origin.git", "tag", "--list").split())
