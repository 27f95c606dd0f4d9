"""Small built monorepos for publish tests: PEP 621 packages built with poetry-core in-process."""

from __future__ import annotations

import os
from pathlib import Path

# A diamond: app -> http, storage -> core. Declared the PEP 621 way by name, so the built
# metadata holds plain version ranges that pip can resolve from the test index.
DIAMOND: dict[str, list[str]] = {
    "acme-core": [],
    "acme-http": ["acme-core"],
    "acme-storage": ["acme-core"],
    "acme-app": ["acme-http", "acme-storage"],
}


def write_package(
    root: Path, name: str, deps: list[str], version: str = "0.1.0", marker: str = ""
) -> Path:
    module = name.replace("-", "_")
    directory = root / "packages" / name
    (directory / "src" / module).mkdir(parents=True, exist_ok=True)
    imports = "".join(f"import {dep.replace('-', '_')}  # noqa: F401\n" for dep in deps)
    (directory / "src" / module / "__init__.py").write_text(
        f'"""{name}."""\n{imports}NAME = "{name}"\nMARKER = "{marker}"\n', encoding="utf-8"
    )
    requirements = ", ".join(f'"{dep}>=0.1"' for dep in deps)
    (directory / "pyproject.toml").write_text(
        f"""[project]
name = "{name}"
version = "{version}"
description = "Test package {name}."
requires-python = ">=3.10"
dependencies = [{requirements}]

[tool.poetry]
packages = [{{ include = "{module}", from = "src" }}]

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
""",
        encoding="utf-8",
    )
    return directory


def build_package(directory: Path) -> list[Path]:
    """Build sdist and wheel into ``directory/dist`` with poetry-core, in-process."""
    from poetry.core.masonry import api

    previous = Path.cwd()
    os.chdir(directory)
    try:
        dist = directory / "dist"
        dist.mkdir(exist_ok=True)
        names = [api.build_sdist(str(dist)), api.build_wheel(str(dist))]
    finally:
        os.chdir(previous)
    return [dist / name for name in names]


def write_workspace(
    root: Path,
    packages: dict[str, list[str]],
    repository_url: str | None = None,
    build: bool = True,
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    config = '[tool.poetflow]\npackages = ["packages/*"]\n'
    if repository_url:
        config += f'\n[tool.poetflow.repositories.local]\nurl = "{repository_url}"\n'
    (root / "pyproject.toml").write_text(config, encoding="utf-8")
    for name, deps in packages.items():
        directory = write_package(root, name, deps)
        if build:
            build_package(directory)
    return root
