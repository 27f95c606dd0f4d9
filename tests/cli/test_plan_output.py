"""``poetflow plan`` as a person reads it: one line when there is nothing to do, the reasons
of a dependency-only release in one line, and only the stages ``run`` would really run."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import CliResult, git

RunCli = Callable[..., CliResult]
RELEASED = {
    "acme-core": "1.2.0",
    "acme-http": "0.4.1",
    "acme-storage": "2.0.3",
    "acme-app": "0.9.0",
}


@pytest.fixture
def released(demo_repo: Path) -> Path:
    for name, version in RELEASED.items():
        git(demo_repo, "tag", "-a", f"{name}-v{version}", "-m", name)
    return demo_repo


def test_nothing_to_release_is_one_line(released: Path, run_cli: RunCli) -> None:
    result = run_cli("plan", cwd=released)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip().splitlines() == [
        "poetflow plan: nothing to release (no commits since the last releases)."
    ]
    assert json.loads(run_cli("plan", "--json", cwd=released).stdout)["packages"] == []


@pytest.mark.parametrize("columns", ["80", "200"])
def test_a_breaking_change_and_its_cascade_read_in_one_table(
    released: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    (released / "packages" / "core" / "NOTES.md").write_text("keyword-only currency\n")
    git(released, "add", "-A")
    git(released, "commit", "-q", "-m", "feat(core)!: currency by keyword")
    result = run_cli("plan", cwd=released)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert text.startswith("poetflow plan: 4 releases, 0 packages tested only")
    assert "new dependencies: acme-http 0.4.2, acme-storage 2.0.4" in " ".join(text.split())
    assert "dependency acme-http 0.4.1 -> 0.4.2" not in text
    assert "sign" not in text  # signing is off: run's sign stage would skip itself
    assert max(len(line) for line in text.splitlines()) <= int(columns)
    if columns == "200":
        assert sum(line.startswith("acme-") for line in text.splitlines()) == 4  # a row each


def test_the_sign_stage_is_planned_when_signing_is_on(released: Path, run_cli: RunCli) -> None:
    root = released / "pyproject.toml"
    root.write_text(root.read_text() + "\n[tool.poetflow.pipeline]\nsign = true\n")
    git(released, "commit", "-q", "-am", "fix: sign the releases")
    # A root-only change releases nothing: plan every package to see their stages.
    plan = json.loads(run_cli("plan", "--json", "--all", cwd=released).stdout)
    assert {tuple(p["stages"]) for p in plan["packages"]} == {("test",)}
    (released / "packages" / "core" / "NOTES.md").write_text("x\n")
    git(released, "add", "-A")
    git(released, "commit", "-q", "-m", "fix(core): x")
    plan = json.loads(run_cli("plan", "--json", cwd=released).stdout)
    assert "sign" in plan["packages"][0]["stages"]
