"""A real bump: versions, constraints, version files, changelogs, commit, tags, push; failures."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from version_history import EXPECTED, commit_file, git


def _snapshot(repo: Path) -> dict[str, str]:
    """The work tree's files; PoetFlow's report folder (git-ignored) is not the release."""
    return {
        str(path.relative_to(repo)): path.read_text()
        for path in sorted(repo.rglob("*"))
        if path.is_file() and ".git" not in path.parts and ".poetflow" not in path.parts
    }


def test_bump_writes_commits_tags_and_pushes(
    history_repo: Path, run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(history_repo, "remote", "add", "origin", str(remote))
    git(history_repo, "push", "-q", "origin", "main")
    result = run_cli(
        "version",
        "bump",
        "--changelog",
        "--commit",
        "--tag",
        "--push",
        "--json",
        cwd=history_repo,
    )
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["pushed"] is True
    released = {name for name, (old, new) in EXPECTED.items() if old != new}
    assert {p["name"] for p in payload["packages"] if p["next"] != p["current"]} == released

    http = (history_repo / "packages/http/pyproject.toml").read_text()
    assert http.startswith("# hand-written comment that must survive\n")
    assert 'version = "0.4.0"' in http
    # Ranges that admit the new version stay as written (dependents-constraint preserve)...
    assert 'core = { version = "^1.2", path = "../core", develop = true }' in http
    storage = (history_repo / "packages/storage/pyproject.toml").read_text()
    assert 'version = "2.0.0"  # managed by poetflow' in storage
    assert 'dependencies = ["core>=1.2,<2"]' in storage
    app = (history_repo / "packages/app/pyproject.toml").read_text()
    # ...and one that excludes it moves: storage 2.0.0 is outside ^1.0.
    assert 'storage = { version = "^2.0.0"' in app
    assert 'http = { version = ">=0.3"' in app
    init = (history_repo / "packages/core/src/core/__init__.py").read_text()
    assert init == '__version__ = "1.3.0"\n'
    quiet = history_repo / "packages/quiet/pyproject.toml"
    assert 'version = "2.0.0"' in quiet.read_text()

    # One release commit, a clean tree, one annotated tag per release with its notes.
    assert git(history_repo, "status", "--porcelain") == ""
    subject = git(history_repo, "log", "-1", "--format=%s")
    # More than three releases: the subject counts them, the body lists every one.
    assert subject == f"chore(release): {len(released)} packages"
    body = git(history_repo, "log", "-1", "--format=%b")
    assert f"- storage: {EXPECTED['storage'][0]} -> 2.0.0" in body.splitlines()
    tags = set(git(history_repo, "tag", "--points-at", "HEAD").split())
    assert tags == {f"{name}-v{EXPECTED[name][1]}" for name in released}
    notes = git(history_repo, "tag", "-l", "--format=%(contents)", "storage-v2.0.0")
    assert "new format" in notes
    assert git(history_repo, "cat-file", "-t", "storage-v2.0.0") == "tag"
    remote_tags = set(git(remote, "tag").split())
    assert tags <= remote_tags
    assert git(remote, "rev-parse", "main") == git(history_repo, "rev-parse", "HEAD")

    # Released: a second run has nothing to do, and the history is read from the new tags.
    again = run_cli("version", "bump", "--dry-run", "--json", cwd=history_repo)
    assert all(p["next"] == p["current"] for p in json.loads(again.stdout)["packages"])
    commit_file(history_repo, "packages/core/src/core/c.py", "e = 1", "fix(core): after release")
    after = run_cli("version", "bump", "--dry-run", "--json", "-p", "core", cwd=history_repo)
    core = next(p for p in json.loads(after.stdout)["packages"] if p["name"] == "core")
    assert (core["current"], core["next"], core["commits"]) == ("1.3.0", "1.3.1", 1)


def test_unwritable_file_is_found_before_anything_is_written(
    history_repo: Path, run_cli: Callable[..., Any]
) -> None:
    # A folder where a changelog file must go: found while validating, not half-way.
    (history_repo / "packages/tools/CHANGELOG.md").mkdir()
    before = _snapshot(history_repo)
    for dry in ((), ("--dry-run",)):
        result = run_cli("version", "bump", "--changelog", "--commit", *dry, cwd=history_repo)
        assert result.exit_code == 2
        assert "packages/tools/CHANGELOG.md: it is a folder; nothing was changed" in result.stderr
        assert "Traceback" not in result.stderr
    assert _snapshot(history_repo) == before
    assert git(history_repo, "log", "-1", "--format=%s") == "Merge branch 'feature'"


def test_existing_tag_changes_nothing(history_repo: Path, run_cli: Callable[..., Any]) -> None:
    # A tag of that name on a commit outside the history (e.g. a deleted branch).
    stray = git(history_repo, "commit-tree", "HEAD^{tree}", "-m", "stray")
    git(history_repo, "tag", "core-v1.3.0", stray)
    before = _snapshot(history_repo)
    result = run_cli("version", "bump", "--tag", cwd=history_repo)
    assert result.exit_code == 2
    assert "core-v1.3.0" in result.stderr
    assert "nothing was changed" in result.stderr
    assert _snapshot(history_repo) == before


def test_missing_version_variable_is_bad_input(
    history_repo: Path, run_cli: Callable[..., Any]
) -> None:
    (history_repo / "packages/core/src/core/__init__.py").write_text("VERSION = '1'\n")
    before = _snapshot(history_repo)
    result = run_cli("version", "bump", cwd=history_repo)
    assert result.exit_code == 2
    assert "__version__" in result.stderr
    assert _snapshot(history_repo) == before


def test_shallow_clone_asks_for_the_full_history(
    history_repo: Path, run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{history_repo}", str(clone))
    result = run_cli("version", "bump", "--dry-run", cwd=clone)
    assert result.exit_code == 2
    assert "fetch the full history (fetch-depth: 0)" in result.stderr
    assert "Traceback" not in result.stderr
    changelog = run_cli("changelog", "--dry-run", cwd=clone)
    assert changelog.exit_code == 2
    assert "fetch-depth: 0" in changelog.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to chown to another uid")
def test_repository_owned_by_another_uid(history_repo: Path, tmp_path: Path) -> None:
    owned = tmp_path / "owned"
    shutil.copytree(history_repo, owned, symlinks=True)
    for path in [owned, *owned.rglob("*")]:
        os.lchown(path, 12345, 12345)
    env = {**os.environ, "HOME": str(tmp_path / "nohome"), "GIT_CONFIG_NOSYSTEM": "1"}
    # git itself refuses this repository (the safe.directory check) ...
    plain = subprocess.run(
        ["git", "status"], cwd=owned, env=env, capture_output=True, text=True, check=False
    )
    assert plain.returncode != 0
    assert "dubious ownership" in plain.stderr
    # ... PoetFlow still reads it, without the user configuring git.
    done = subprocess.run(
        [sys.executable, "-m", "poetflow", "version", "bump", "--dry-run", "--json"],
        cwd=owned,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    plan = {p["name"]: p["next"] for p in json.loads(done.stdout)["packages"]}
    assert plan == {name: new for name, (_old, new) in EXPECTED.items()}
