"""Fixtures for version tests: a generated monorepo history with known answers."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from version_history import build_history


@pytest.fixture
def history_repo(tmp_path: Path) -> Path:
    return build_history(tmp_path / "mono")
