"""Fixtures for hook tests: a small git monorepo whose pyproject.toml files declare hooks."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest


def init_repo(root: Path) -> Path:
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["-c", "commit.gpgsign=false", "commit", "-q", "-m", "chore: initial commit"],
    ):
        subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root


_PACKAGE = """\
[project]
name = "{name}"
version = "{version}"
requires-python = ">=3.10"
dependencies = [{deps}]

[tool.poetry]
packages = [{{ include = "{module}", from = "src" }}]
{path_deps}
[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
{extra}
"""


def write_package(
    root: Path, name: str, *, version: str = "1.0.0", deps: tuple[str, ...] = (), extra: str = ""
) -> Path:
    module = name.replace("-", "_")
    folder = root / "packages" / name
    (folder / "src" / module).mkdir(parents=True)
    (folder / "src" / module / "__init__.py").write_text(f'"""{name}."""\n')
    path_deps = ""
    if deps:
        path_deps = "\n[tool.poetry.dependencies]\n" + "".join(
            f'{dep} = {{ path = "../{dep}", develop = true }}\n' for dep in deps
        )
    (folder / "pyproject.toml").write_text(
        _PACKAGE.format(
            name=name,
            version=version,
            module=module,
            deps=", ".join(f'"{dep}>=1.0"' for dep in deps),
            path_deps=path_deps,
            extra=extra,
        )
    )
    return folder


@pytest.fixture
def hooked_repo(tmp_path: Path) -> Callable[..., Path]:
    """``make(root_hooks, package_extra={"b": "..."})``: core <- app, with hooks in TOML."""

    def make(root_hooks: str, package_extra: dict[str, str] | None = None) -> Path:
        root = tmp_path / "mono"
        root.mkdir()
        (root / "pyproject.toml").write_text(
            '[tool.poetflow]\npackages = ["packages/*"]\n\n[tool.poetflow.hooks]\n' + root_hooks
        )
        extra = package_extra or {}
        write_package(root, "core", extra=extra.get("core", ""))
        write_package(root, "app", version="2.0.0", deps=("core",), extra=extra.get("app", ""))
        return init_repo(root)

    return make
