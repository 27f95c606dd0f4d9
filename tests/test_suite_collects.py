"""The whole suite runs every folder of tests: none is left out by pytest's own defaults."""

from __future__ import annotations

from fnmatch import fnmatch
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def test_no_folder_of_tests_is_skipped_by_norecursedirs(request: pytest.FixtureRequest) -> None:
    patterns = request.config.getini("norecursedirs")
    folders = {path.parent for path in TESTS.rglob("test_*.py")}
    assert len(folders) > 10  # the suite's own folders were found
    left_out = sorted(
        str(folder.relative_to(TESTS))
        for folder in folders
        for part in folder.relative_to(TESTS).parts
        if any(fnmatch(part, pattern) for pattern in patterns)
    )
    assert left_out == []
