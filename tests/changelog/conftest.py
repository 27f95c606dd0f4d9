"""Fixtures for changelog tests: the known-answer history of tests/versioning."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "versioning"))

from version_history import build_history


@pytest.fixture
def history_repo(tmp_path: Path) -> Path:
    return build_history(tmp_path / "mono")
