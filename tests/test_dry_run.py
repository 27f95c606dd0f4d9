"""Every ``--dry-run`` writes nothing of the user's: not in the repository (``.git`` and
ignored files included), not in HOME, not the run report; it says where the report would
have gone. What the CI runner hands the step (its summary and outputs files) is the dry
run's answer — the versions it would release — and is marked as a dry run."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import CliResult, git, tree_state

# A release is pending (a fix in acme-core), so each command has something it would do.
COMMANDS = (
    "build --dry-run",
    "version bump --dry-run",
    "version set 9.9.9 --dry-run -p acme-core",
    "changelog --dry-run",
    "publish --dry-run --no-build --repository-url http://127.0.0.1:9/legacy/",
    "run --dry-run --repository-url http://127.0.0.1:9/legacy/",
    "run --dry-run --all --skip publish",
    "test --dry-run",
    "plan --dry-run",
    "discover --status --dry-run",
    "doctor --dry-run",
    "init --yes --force --ci github --dry-run",
)
REPORTING = {"build", "version", "changelog", "publish", "run", "test"}


@pytest.fixture
def pending_release(demo_repo: Path) -> Path:
    readme = demo_repo / "packages" / "core" / "README.md"
    readme.write_text(readme.read_text() + "\nMore.\n")
    git(demo_repo, "commit", "-q", "-am", "fix(core): say more")
    return demo_repo


@pytest.mark.parametrize("command", COMMANDS)
def test_a_dry_run_writes_nothing_anywhere(
    command: str,
    pending_release: Path,
    tmp_path: Path,
    run_cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ci = tmp_path / "ci"
    ci.mkdir()
    # In GitHub Actions a real run also writes the step summary and outputs.
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(ci / "summary.md"))
    monkeypatch.setenv("GITHUB_OUTPUT", str(ci / "output"))
    monkeypatch.setenv("POETFLOW_TOKEN", "pypi-not-a-real-token")
    home = Path(os.environ["HOME"])
    before, home_before = tree_state(pending_release), sorted(home.rglob("*"))

    result = run_cli(*shlex.split(command), cwd=pending_release)

    assert result.exit_code in (0, 1), result.stderr  # doctor finds things: exit 1
    assert "Traceback" not in result.stderr
    assert tree_state(pending_release) == before, f"`poetflow {command}` wrote to the repository"
    assert sorted(home.rglob("*")) == home_before, f"`poetflow {command}` wrote to HOME"
    summary = ci / "summary.md"
    if summary.exists():  # the preview, never mistaken for a release
        assert "(dry run)" in summary.read_text()
    for written in ci.iterdir():
        assert "pypi-not-a-real-token" not in written.read_text()
    if command.split(maxsplit=1)[0] in REPORTING:
        report = pending_release / ".poetflow" / "poetflow-report.json"
        assert f"the report would be written to {report}" in result.stderr
