"""Nothing is written outside the repository, and bad tags are refused at load (exit 2)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import CliResult, git

RunCli = Callable[..., CliResult]
COMMANDS = [
    ("version", "bump", "--changelog", "--commit", "--tag"),
    ("version", "bump", "--changelog", "--commit", "--tag", "--dry-run"),
    ("changelog",),
    ("run", "--stages", "version,build,release", "--dry-run"),
]


def _state(repo: Path, outside: Path) -> tuple[str, str, list[str]]:
    files = sorted(str(p) for p in outside.rglob("*"))
    return git(repo, "rev-parse", "HEAD"), git(repo, "status", "--porcelain"), files


def _refused(run_cli: RunCli, repo: Path, outside: Path, expected: str) -> None:
    before = _state(repo, outside)
    for command in COMMANDS:
        result = run_cli(*command, cwd=repo)
        assert result.exit_code == 2, (command, result.stdout, result.stderr)
        assert expected in result.stderr, (command, result.stderr)
        assert "Traceback" not in result.stderr
        assert _state(repo, outside) == before


def _feature(repo: Path) -> None:
    path = repo / "packages/core/src/acme_core/new.py"
    path.write_text("X = 1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "feat(core): new")


@pytest.mark.parametrize("relative", ["../../../outside/x.py", "ABSOLUTE"])
def test_version_files_outside_the_repository_are_refused(
    demo_repo: Path, run_cli: RunCli, tmp_path: Path, relative: str
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.py").write_text('__version__ = "1.2.0"\n')
    if relative == "ABSOLUTE":
        relative = str(outside / "x.py")
    pyproject = demo_repo / "packages/core/pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + f'\n[tool.poetflow]\nversion-files = ["{relative}"]\n'
    )
    git(demo_repo, "commit", "-q", "-am", "chore: a version file")
    _feature(demo_repo)
    _refused(run_cli, demo_repo, outside, f"version file {relative!r} of acme-core resolves to")
    assert (outside / "x.py").read_text() == '__version__ = "1.2.0"\n'


def test_a_package_folder_symlinked_outside_the_root_is_refused(
    demo_repo: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    outside = tmp_path / "elsewhere"
    (demo_repo / "packages/core").rename(outside)
    os.symlink(outside, demo_repo / "packages/core")
    git(demo_repo, "add", "-A")
    git(demo_repo, "commit", "-q", "-m", "chore: core lives elsewhere")
    _refused(run_cli, demo_repo, outside, "The package folder packages/core (acme-core) resolves")


def test_a_changelog_symlinked_outside_is_refused(
    demo_repo: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    outside = tmp_path / "notes"
    outside.mkdir()
    (outside / "CHANGELOG.md").write_text("# Changes elsewhere\n")
    os.symlink(outside / "CHANGELOG.md", demo_repo / "packages/core/CHANGELOG.md")
    git(demo_repo, "add", "-A")
    git(demo_repo, "commit", "-q", "-m", "docs: shared changelog")
    _feature(demo_repo)
    _refused(run_cli, demo_repo, outside, "packages/core/CHANGELOG.md of acme-core is a symlink")


def test_a_tag_format_bad_for_a_real_member_name_is_refused_at_load(
    demo_repo: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    # Fine for a sample name, but a member called "lock" makes "rel.lock/1.2.0": a ref
    # component ending in ".lock", which git refuses; found at load, not after the commit.
    root = demo_repo / "pyproject.toml"
    root.write_text(root.read_text().replace('"{name}-v{version}"', '"rel.{name}/{version}"'))
    core = demo_repo / "packages/core/pyproject.toml"
    core.write_text(core.read_text().replace('name = "acme-core"', 'name = "lock"'))
    # Its dependents name it by its new name, by requirement and by path alike.
    for dependent in ("http", "storage"):
        pyproject = demo_repo / "packages" / dependent / "pyproject.toml"
        text = pyproject.read_text().replace('"acme-core>=1.2"', '"lock>=1.2"')
        pyproject.write_text(text.replace("acme-core = {", "lock = {"))
    git(demo_repo, "commit", "-q", "-am", "chore: rename core")
    _feature(demo_repo)
    outside = tmp_path / "none"
    outside.mkdir()
    _refused(run_cli, demo_repo, outside, "does not make a valid git tag name for the package lock")
    discover = run_cli("discover", cwd=demo_repo)
    assert discover.exit_code == 2
