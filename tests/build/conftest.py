"""Fixtures for build tests: real-shaped scenario workspaces in fresh git repositories."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_helpers import SCENARIOS, make_repo


@pytest.fixture
def realshaped(tmp_path: Path) -> Path:
    """Nested folders, names unlike folders, both metadata styles, extras and groups."""
    return make_repo(SCENARIOS / "realshaped", tmp_path / "realshaped")
