"""Fixtures for lock tests: the locked sample monorepos, with locks written by real Poetry."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tests.conftest import FIXTURE_WORKSPACES, copy_tree, init_repo

LockedRepo = Callable[[str], Path]


@pytest.fixture
def locked_repo(tmp_path: Path) -> LockedRepo:
    """A git repository holding a copy of one of the locked sample monorepos."""

    def make(name: str) -> Path:
        return init_repo(copy_tree(FIXTURE_WORKSPACES / name, tmp_path / name))

    return make


@pytest.fixture
def poetry_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path_factory.mktemp("poetry-cache")
    monkeypatch.setenv("POETRY_CACHE_DIR", str(cache))
    monkeypatch.setenv("POETRY_VIRTUALENVS_IN_PROJECT", "true")
    return cache
