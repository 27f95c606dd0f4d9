"""Fixtures for the CI tests: a GitHub Actions step environment, no secrets from before."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def github_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A GitHub Actions step environment with real output and summary files."""
    files = {"output": tmp_path / "github_output", "summary": tmp_path / "step_summary"}
    for file in files.values():
        file.touch()
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(files["output"]))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(files["summary"]))
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/monorepo")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    return files


@pytest.fixture(autouse=True)
def _no_earlier_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts with no registered secrets, as each poetflow process does (the
    registry is process-wide, and a CI session announces what was registered before it)."""
    from poetflow import masking

    monkeypatch.setattr(masking, "_secrets", set())
    monkeypatch.setattr(masking, "_registered", {})
