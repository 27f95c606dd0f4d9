"""A release leaves every poetry.lock fresh for real Poetry, third-party pins untouched."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from lock_helpers import (
    lock_entries,
    poetry,
    poetry_says_fresh,
    third_party_entries,
)
from tests.conftest import CliResult, git

LockedRepo = Callable[[str], Path]

LANGCHAIN = {
    "langchain-core": "libs/core",
    "langchain-text-splitters": "libs/text-splitters",
    "langchain": "libs/langchain",
    "langchain-openai": "libs/partners/openai",
    "langchain-tests": "libs/standard-tests",
}


def _commit(repo: Path, relative: str, message: str) -> None:
    path = repo / relative
    path.write_text(path.read_text(encoding="utf-8") + "VALUE = 1\n", encoding="utf-8")
    git(repo, "commit", "-q", "-am", message)


def _versions(repo: Path) -> dict[str, str]:
    from poetflow.workspace import load_workspace

    return {p.name: str(p.version) for p in load_workspace(repo).packages}


@pytest.mark.slow
def test_langchain_style_release_leaves_locks_fresh_and_pins_alone(
    locked_repo: LockedRepo, run_cli: object, poetry_cache: Path
) -> None:
    repo = locked_repo("langchain-style")
    members = set(LANGCHAIN)
    pins = third_party_entries(repo, members)
    _commit(repo, "libs/core/src/langchain_core/__init__.py", "feat(core): runnables")

    result = run_cli("version", "bump", "--changelog", "--commit", "--tag", cwd=repo)  # type: ignore[operator]
    assert isinstance(result, CliResult)
    assert result.exit_code == 0, result.stderr

    # 0.3.21 -> 0.4.0 falls outside every ^0.3.x range: each dependent's range moved...
    splitters = (repo / "libs/text-splitters/pyproject.toml").read_text()
    assert 'langchain-core = "^0.4.0"' in splitters
    # ...and each lock took it: the member's new version, its new constraints, the hash.
    lock = lock_entries(repo / "libs/langchain/poetry.lock")
    assert 'version = "0.4.0"' in lock["langchain-core"]
    assert 'langchain-core = "^0.4.0"' in lock["langchain-text-splitters"]
    assert git(repo, "status", "--porcelain") == ""
    assert "libs/langchain/poetry.lock" in git(repo, "show", "--stat", "--format=", "HEAD")
    # Every third-party entry is byte for byte what Poetry wrote.
    assert third_party_entries(repo, members) == pins
    for relpath in LANGCHAIN.values():
        checked = poetry(repo / relpath, "check", "--lock")
        assert checked.returncode == 0, f"{relpath}: {checked.stdout}{checked.stderr}"

    # What PoetFlow wrote is exactly what `poetry lock` writes (it keeps locked versions).
    ours = (repo / "libs/langchain/poetry.lock").read_text()
    relocked = poetry(repo / "libs/langchain", "lock")
    assert relocked.returncode == 0, relocked.stdout + relocked.stderr
    assert (repo / "libs/langchain/poetry.lock").read_text() == ours

    # And `poetry install --sync` installs the third-party versions that were locked before.
    folder = repo / "libs/partners/openai"
    installed = poetry(folder, "install", "--sync")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    listing = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({d.metadata['Name'].lower(): d.version for d in m.distributions()}))"
    )
    shown = poetry(folder, "run", "python", "-c", listing)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    versions = json.loads(shown.stdout.strip().splitlines()[-1])
    locked = {
        name: re.search(r'^version = "([^"]+)"', body, re.MULTILINE).group(1)  # type: ignore[union-attr]
        for name, body in pins["libs/partners/openai/poetry.lock"].items()
    }
    assert {name: versions.get(name) for name in locked} == locked
    assert versions["langchain-core"] == "0.4.0"


@pytest.mark.slow
def test_thirty_locked_packages_stay_fresh_in_both_constraint_modes(
    locked_repo: LockedRepo, run_cli: object
) -> None:
    repo = locked_repo("locked30")
    members = {f"pkg-{i:03d}" for i in range(30)}
    pins = third_party_entries(repo, members)
    _commit(repo, "packages/pkg-000/src/pkg_000/__init__.py", "feat(pkg-000): more")
    _commit(repo, "packages/pkg-013/src/pkg_013/__init__.py", "fix(pkg-013): less")

    first = run_cli("version", "bump", "--changelog", "--commit", "--tag", cwd=repo)  # type: ignore[operator]
    assert isinstance(first, CliResult)
    assert first.exit_code == 0, first.stderr
    assert _versions(repo)["pkg-000"] == "0.2.0"
    assert all(poetry_says_fresh(repo / "packages" / name) for name in sorted(members))
    # pkg-001 is legacy: "^0.1.0" excludes 0.2.0 and moved; pkg-002's ">=0.1" admits it.
    assert 'pkg-000 = "^0.2.0"' in (repo / "packages/pkg-001/pyproject.toml").read_text()
    assert '"pkg-000>=0.1"' in (repo / "packages/pkg-002/pyproject.toml").read_text()
    assert third_party_entries(repo, members) == pins

    # Raising every range instead rewrites PEP 508 requirements too (">=0.1" -> ">=0.3.0").
    root = repo / "pyproject.toml"
    root.write_text(
        root.read_text() + '\n[tool.poetflow.version]\ndependents-constraint = "raise"\n'
    )
    git(repo, "commit", "-q", "-am", "chore: raise ranges")
    _commit(repo, "packages/pkg-000/src/pkg_000/__init__.py", "feat(pkg-000): again")
    second = run_cli("version", "bump", "--changelog", "--commit", "--tag", cwd=repo)  # type: ignore[operator]
    assert isinstance(second, CliResult)
    assert second.exit_code == 0, second.stderr
    assert '"pkg-000>=0.3.0"' in (repo / "packages/pkg-002/pyproject.toml").read_text()
    assert 'pkg-000 = ">=0.3.0"' in lock_entries(repo / "packages/pkg-004/poetry.lock")["pkg-002"]
    assert all(poetry_says_fresh(repo / "packages" / name) for name in sorted(members))
    assert third_party_entries(repo, members) == pins
    for name in ("pkg-002", "pkg-017", "pkg-029"):
        checked = poetry(repo / "packages" / name, "check", "--lock")
        assert checked.returncode == 0, checked.stdout + checked.stderr
    assert git(repo, "status", "--porcelain") == ""


def test_a_lock_already_out_of_date_stops_the_release(
    locked_repo: LockedRepo, run_cli: object
) -> None:
    repo = locked_repo("langchain-style")
    pyproject = repo / "libs/langchain/pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('iniconfig = ">=2.0"', 'iniconfig = ">=2.1"')
    )
    git(repo, "commit", "-q", "-am", "build: need newer iniconfig (lock not refreshed)")
    _commit(repo, "libs/core/src/langchain_core/__init__.py", "feat(core): runnables")
    head = git(repo, "rev-parse", "HEAD")
    for dry in ((), ("--dry-run",)):
        result = run_cli("version", "bump", "--commit", "--tag", *dry, cwd=repo)  # type: ignore[operator]
        assert isinstance(result, CliResult)
        assert result.exit_code == 2
        assert "libs/langchain/poetry.lock of langchain is already out of date" in result.stderr
        assert "poetflow lock -p langchain" in result.stderr
        assert "Traceback" not in result.stderr
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain") == ""
