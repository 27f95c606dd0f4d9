"""`poetflow version bump --dry-run --json` on a generated history with known answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from version_history import EXPECTED, commit_file, git

from poetflow.versioning.versions import bump_version


def _plan(run_cli: Callable[..., Any], repo: Path, *args: str) -> dict[str, Any]:
    result = run_cli("version", "bump", *args, "--dry-run", "--json", cwd=repo)
    assert result.exit_code == 0, result.stderr
    return {entry["name"]: entry for entry in json.loads(result.stdout)["packages"]}


def test_auto_bump_gives_the_known_answers(history_repo: Path, run_cli: Callable[..., Any]) -> None:
    before = git(history_repo, "status", "--porcelain")
    plan = _plan(run_cli, history_repo)
    got = {name: (entry["current"], entry["next"]) for name, entry in plan.items()}
    assert got == EXPECTED
    assert plan["core"]["commits"] == 3  # feat, a non-conventional commit and a test commit
    assert "1 non-conventional commit ignored" in plan["core"]["reasons"]
    assert plan["app"]["bump"] == "dependency"
    assert "dependency storage 1.0.0 -> 2.0.0" in plan["app"]["reasons"]
    assert plan["tools"]["last_tag"] is None
    assert plan["beta"]["last_tag"] == "beta-v1.3.0-rc.1"
    assert plan["quiet"]["next"] == plan["quiet"]["current"]
    assert git(history_repo, "status", "--porcelain") == before  # dry run wrote nothing


def test_prerelease_counts_on_from_a_semver_style_tag(
    history_repo: Path, run_cli: Callable[..., Any]
) -> None:
    plan = _plan(run_cli, history_repo, "--pre", "rc")
    assert plan["beta"]["next"] == "1.3.0rc2"
    assert plan["core"]["next"] == "1.3.0rc1"
    plan = _plan(run_cli, history_repo, "prerelease", "-p", "quiet")
    assert plan["quiet"]["next"] == "2.0.1rc1"


def test_major_on_zero_and_custom_bump_rules(
    history_repo: Path, run_cli: Callable[..., Any]
) -> None:
    root = history_repo / "pyproject.toml"
    root.write_text(
        root.read_text()
        + '\n[tool.poetflow.version]\nmajor-on-zero = true\ndependents-bump = "none"\n'
        + 'bump-rules = { docs = "patch" }\n'
    )
    plan = _plan(run_cli, history_repo)
    assert plan["http"]["next"] == "1.0.0"
    assert plan["quiet"]["next"] == "2.0.1"  # docs now releases a patch
    assert plan["app"]["next"] == "0.5.0"  # dependents keep their version...
    # ...and only the range the new version falls outside moves: ">=0.3" admits http 1.0.0.
    assert plan["app"]["constraint_updates"] == {"storage": "2.0.0"}
    root.write_text(root.read_text() + 'dependents-constraint = "raise"\n')
    raised = _plan(run_cli, history_repo)
    assert raised["app"]["constraint_updates"] == {"http": "1.0.0", "storage": "2.0.0"}


def test_explicit_level_and_selection(history_repo: Path, run_cli: Callable[..., Any]) -> None:
    plan = _plan(run_cli, history_repo, "major", "-p", "core")
    assert plan["core"]["next"] == "2.0.0"
    # Dependents follow (constraint moved, patch bump) even when not selected.
    assert plan["http"]["next"] == "0.3.1"
    assert plan["http"]["constraint_updates"] == {"core": "2.0.0"}
    assert "tools" not in plan


def test_nothing_to_release_exits_zero(history_repo: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli("version", "bump", "-p", "quiet", cwd=history_repo)
    assert result.exit_code == 0
    assert "nothing to release" in result.stdout


def test_synchronized_versioning_uses_the_highest_bump(
    history_repo: Path, run_cli: Callable[..., Any]
) -> None:
    (history_repo / "pyproject.toml").write_text(
        '[tool.poetflow]\npackages = ["packages/*"]\nversioning = "synchronized"\n'
    )
    for name in ("core", "http", "storage", "tools", "quiet", "app"):
        path = history_repo / "packages" / name / "pyproject.toml"
        text = path.read_text()
        old = text.split('version = "', 1)[1].split('"', 1)[0]
        path.write_text(text.replace(f'version = "{old}"', 'version = "1.3.0rc1"', 1))
    git(history_repo, "commit", "-qam", "chore: synchronize")
    git(history_repo, "tag", "v1.2.0", "HEAD~3")
    plan = _plan(run_cli, history_repo)
    assert {entry["next"] for entry in plan.values()} == {"2.0.0"}


def test_version_set_validates_and_refuses_downgrades(
    history_repo: Path, run_cli: Callable[..., Any]
) -> None:
    bad = run_cli("version", "set", "one.two", "-p", "core", cwd=history_repo)
    assert bad.exit_code == 2
    assert "not a valid PEP 440 version" in bad.stderr
    down = run_cli("version", "set", "1.0.0", "-p", "core", cwd=history_repo)
    assert down.exit_code == 2
    assert "lower than the current version 1.2.0" in down.stderr
    assert "--allow-downgrade" in down.stderr
    ok = run_cli(
        "version", "set", "1.0.0", "-p", "core", "--allow-downgrade", "--json", cwd=history_repo
    )
    assert ok.exit_code == 0, ok.stderr
    assert 'version = "1.0.0"' in (history_repo / "packages/core/pyproject.toml").read_text()
    init = history_repo / "packages/core/src/core/__init__.py"
    assert '__version__ = "1.0.0"' in init.read_text()


def test_since_with_shared_paths(history_repo: Path, run_cli: Callable[..., Any]) -> None:
    start = git(history_repo, "rev-parse", "HEAD")
    commit_file(history_repo, "packages/tools/src/tools/z.py", "z = 1", "fix(tools): z")
    result = run_cli("discover", "--since", start, "--json", cwd=history_repo)
    assert [p["name"] for p in json.loads(result.stdout)["packages"]] == ["tools"]
    root = history_repo / "pyproject.toml"
    root.write_text(root.read_text() + 'shared-paths = ["poetry.lock"]\n')
    commit_file(history_repo, "poetry.lock", "# lock", "build: lock")
    result = run_cli("discover", "--since", start, "--json", cwd=history_repo)
    assert len(json.loads(result.stdout)["packages"]) == len(EXPECTED)
    # shared paths count in planning as well: every package has the build commit now
    plan = _plan(run_cli, history_repo)
    assert plan["quiet"]["commits"] == 2


@pytest.mark.parametrize(
    ("current", "level", "pre", "expected"),
    [
        ("1.2.3", "patch", None, "1.2.4"),
        ("1.2.3", "minor", "rc", "1.3.0rc1"),
        ("1.3.0rc1", "patch", "rc", "1.3.0rc2"),
        ("1.3.0rc2", "patch", "b", "1.3.0b1"),
        ("1.3.0a1", "patch", None, "1.3.0"),
        ("1.3.0-rc.1", "major", None, "1.3.0"),
        ("2", "minor", None, "2.1.0"),
        ("1.2.3.post1", "patch", None, "1.2.4"),
    ],
)
def test_version_arithmetic(current: str, level: Any, pre: Any, expected: str) -> None:
    assert bump_version(current, level, pre=pre) == expected


def test_prerelease_needing_more_than_its_base() -> None:
    # 1.2.1rc1 was a fix; a feature since 1.2.0 makes the release 1.3.0.
    assert bump_version("1.2.1rc1", "minor", last_final="1.2.0", final_level="minor") == "1.3.0"


def test_discover_status_shows_last_tag_commits_and_pending_bump(
    history_repo: Path, run_cli: Callable[..., Any]
) -> None:
    plain = run_cli("discover", "--json", cwd=history_repo)
    assert all("status" not in p for p in json.loads(plain.stdout)["packages"])
    result = run_cli("discover", "--status", "--json", cwd=history_repo)
    assert result.exit_code == 0, result.stderr
    status = {p["name"]: p["status"] for p in json.loads(result.stdout)["packages"]}
    assert status["core"] == {
        "last_tag": "core-v1.2.0",
        "commits_since": 3,
        "pending_bump": "minor",
        "next_version": "1.3.0",
        # Where its release goes (the default index; no package settings limit it).
        "targets": ["pypi"],
        "limited_to": None,
        "private": None,
    }
    assert status["tools"]["last_tag"] is None
    assert status["quiet"]["next_version"] is None
    table = run_cli("discover", "--status", cwd=history_repo)
    assert "never released" in table.stdout


def test_unbumpable_version_is_bad_input(history_repo: Path, run_cli: Callable[..., Any]) -> None:
    path = history_repo / "packages/tools/pyproject.toml"
    path.write_text(path.read_text().replace('version = "0.1.0"', 'version = "1.2.3.4"'))
    result = run_cli("version", "bump", "--dry-run", cwd=history_repo)
    assert result.exit_code == 2
    assert "packages/tools/pyproject.toml" in result.stderr
    assert "'1.2.3.4'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_tag_with_leading_zeros_counts_but_is_named_in_a_warning(
    history_repo: Path, run_cli: Callable[..., Any]
) -> None:
    # tools was never released; a tag written by hand (or another tool) as 00.02 is 0.2.
    git(history_repo, "tag", "tools-v00.02")
    result = run_cli("version", "bump", "--dry-run", "--json", "-p", "tools", cwd=history_repo)
    assert result.exit_code == 0, result.stderr
    entry = json.loads(result.stdout)["packages"][0]
    assert entry["last_tag"] == "tools-v00.02"
    assert "warning: The tag 'tools-v00.02' counts as the release of version 0.2" in result.stderr
    # Tags in the normal form (and semver-style pre-releases, beta-v1.3.0-rc.1) are no news.
    git(history_repo, "tag", "-d", "tools-v00.02")
    quiet = run_cli("version", "bump", "--dry-run", "--json", cwd=history_repo)
    assert "warning" not in quiet.stderr
