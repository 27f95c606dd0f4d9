"""Repositories for `poetflow init`: Poetry monorepos without PoetFlow configuration yet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

_LEGACY = """[tool.poetry]
name = "{name}"
version = "{version}"
description = "{name}"
authors = ["T <t@example.invalid>"]

[tool.poetry.dependencies]
python = "{python}"
{deps}
[build-system]
requires = ["poetry-core>=1.0.0"]
build-backend = "poetry.core.masonry.api"
"""

_PEP621 = """[project]
name = "{name}"
version = "{version}"
requires-python = "{python}"
dependencies = []

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""


def write_package(
    root: Path,
    relpath: str,
    name: str,
    version: str,
    *,
    style: str = "poetry",
    python: str = ">=3.10",
    deps: str = "",
) -> Path:
    folder = root / relpath
    folder.mkdir(parents=True)
    template = _LEGACY if style == "poetry" else _PEP621
    text = template.format(name=name, version=version, python=python, deps=deps)
    (folder / "pyproject.toml").write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def make_monorepo(tmp_path: Path) -> Callable[..., Path]:
    """A git monorepo with the given (relpath, name, version[, style]) packages and tags."""
    from tests.conftest import git, init_repo

    def make(
        packages: list[tuple[str, ...]],
        *,
        tags: tuple[str, ...] = (),
        root_pyproject: str | None = None,
        python: str = ">=3.10",
    ) -> Path:
        root = tmp_path / "mono"
        root.mkdir()
        for relpath, name, version, *rest in packages:
            style = rest[0] if rest else "poetry"
            write_package(root, relpath, name, version, style=style, python=python)
        if root_pyproject is not None:
            (root / "pyproject.toml").write_text(root_pyproject, encoding="utf-8")
        init_repo(root)
        for tag in tags:
            git(root, "tag", tag)
        return root

    return make
