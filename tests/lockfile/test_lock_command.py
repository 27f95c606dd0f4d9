"""`poetflow lock`: --check lists stale locks (exit 1); a refresh relocks only what needs it."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from lock_helpers import lock_entries, poetry, third_party_entries
from tests.conftest import CliResult, git

RunCli = Callable[..., CliResult]
LockedRepo = Callable[[str], Path]


@pytest.mark.slow
def test_check_then_refresh_in_dependency_order(
    locked_repo: LockedRepo, run_cli: RunCli, poetry_cache: Path
) -> None:
    repo = locked_repo("langchain-style")
    members = {"langchain-core", "langchain-text-splitters", "langchain", "langchain-openai",
               "langchain-tests"}  # fmt: skip
    pins = third_party_entries(repo, members)
    # A requirement changed without relocking (stale), and a member version bumped by
    # hand, which leaves every lock holding langchain-core behind (fresh for Poetry).
    langchain = repo / "libs/langchain/pyproject.toml"
    langchain.write_text(langchain.read_text().replace('iniconfig = ">=2.0"', 'iniconfig = ">=2"'))
    core = repo / "libs/core/pyproject.toml"
    core.write_text(core.read_text().replace('version = "0.3.21"', 'version = "0.3.22"'))
    git(repo, "commit", "-q", "-am", "chore: edits without relocking")
    head = git(repo, "rev-parse", "HEAD")

    check = run_cli("lock", "--check", "--json", cwd=repo)
    assert check.exit_code == 1, check.stderr
    report = json.loads(check.stdout)
    states = {lock["path"]: lock["state"] for lock in report["locks"]}
    assert states["libs/langchain/poetry.lock"] == "stale"
    assert states["libs/text-splitters/poetry.lock"] == "behind"
    assert states["libs/core/poetry.lock"] == "fresh"
    assert git(repo, "status", "--porcelain") == ""
    text = run_cli("lock", "--check", cwd=repo)
    assert text.exit_code == 1
    stale_line = next(line for line in text.stdout.splitlines() if line.startswith("out of"))
    assert "libs/text-splitters/poetry.lock" in stale_line
    assert "run `poetflow lock`" in text.stdout

    refreshed = run_cli("lock", "--jobs", "2", "--json", cwd=repo)
    assert refreshed.exit_code == 0, refreshed.stdout + refreshed.stderr
    actions = {lock["path"]: lock["action"] for lock in json.loads(refreshed.stdout)["locks"]}
    assert actions["libs/langchain/poetry.lock"] == "relocked"  # poetry lock
    assert actions["libs/text-splitters/poetry.lock"] == "updated"  # in-process
    assert actions["libs/core/poetry.lock"] == "fresh"
    assert (
        'version = "0.3.22"' in lock_entries(repo / "libs/langchain/poetry.lock")["langchain-core"]
    )
    for relpath in ("libs/langchain", "libs/text-splitters", "libs/partners/openai"):
        assert poetry(repo / relpath, "check", "--lock").returncode == 0
    assert third_party_entries(repo, members) == pins  # Poetry 2 keeps locked versions
    assert git(repo, "rev-parse", "HEAD") == head  # refreshed, not committed

    again = run_cli("lock", cwd=repo)
    assert again.exit_code == 0
    assert "5 locks: 5 fresh" in again.stdout
    assert run_cli("lock", "--check", cwd=repo).exit_code == 0


def test_dry_run_and_doctor_point_at_poetflow_lock(
    locked_repo: LockedRepo, run_cli: RunCli
) -> None:
    repo = locked_repo("langchain-style")
    core = repo / "libs/core/pyproject.toml"
    core.write_text(core.read_text().replace('version = "0.3.21"', 'version = "0.3.22"'))
    git(repo, "commit", "-q", "-am", "chore: bump by hand")
    dry = run_cli("lock", "--dry-run", "--json", cwd=repo)
    assert dry.exit_code == 0, dry.stderr
    actions = {lock["path"]: lock["action"] for lock in json.loads(dry.stdout)["locks"]}
    assert actions["libs/langchain/poetry.lock"] == "would update"
    assert git(repo, "status", "--porcelain") == ""
    doctor = run_cli("doctor", "--json", cwd=repo)
    findings = [f for f in json.loads(doctor.stdout)["findings"] if f["check"] == "lock-files"]
    assert findings
    assert all("poetflow lock" in finding["fix"] for finding in findings)
    assert any("langchain-core at 0.3.21 (now 0.3.22)" in f["message"] for f in findings)
