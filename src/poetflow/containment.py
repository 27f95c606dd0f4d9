"""Every file a release writes stays inside the repository: checked when the workspace loads.

A member folder that is a symlink to somewhere else, a ``version-files`` entry such as
``../../../x`` or ``/etc/x``, a CHANGELOG.md or poetry.lock that links out of the tree:
each would make a release write outside the repository (and outside what its commit
holds). They are refused at load, so every command — ``--dry-run`` included — stops with
one sentence naming the file before anything happens.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from poetflow.errors import ConfigError

__all__ = ["OutsideRepositoryError", "check_inside_root"]

# Files a release writes in each member folder besides the version files.
_RELEASE_FILES = ("pyproject.toml", "poetry.lock", "CHANGELOG.md", "CHANGELOG.json")


class OutsideRepositoryError(ConfigError):
    """A member, version file or changelog resolves outside the workspace root (exit 2)."""


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def check_inside_root(
    root: Path, packages: Iterable[Any], files: Iterable[str | None] = ()
) -> None:
    """Raise OutsideRepositoryError for the first release file that resolves outside;
    ``files`` are workspace-wide ones relative to the root (the root changelog)."""
    real_root = _real(root)

    def outside(path: Path) -> bool:
        return not _real(path).is_relative_to(real_root)

    for package in packages:
        if outside(package.path):
            raise OutsideRepositoryError(
                f"The package folder {package.relpath} ({package.name}) resolves to "
                f"{_real(package.path)}, outside the repository {root}; a release would "
                "write its pyproject.toml and changelogs there.",
                hint="Replace the symlink with the folder itself, or exclude it in "
                "[tool.poetflow] exclude.",
            )
        for relative, _variable in package.config.version_files:
            target = package.path / relative
            if outside(target):
                raise OutsideRepositoryError(
                    f"{package.pyproject}: version file {relative!r} of {package.name} "
                    f"resolves to {_real(target)}, outside the repository {root}; PoetFlow "
                    "writes only inside it.",
                    hint="List a file inside the repository in tool.poetflow.version-files.",
                )
        for name in _RELEASE_FILES:
            target = package.path / name
            if target.is_symlink() and outside(target):
                raise OutsideRepositoryError(
                    f"{package.relpath}/{name} of {package.name} is a symlink to "
                    f"{_real(target)}, outside the repository {root}; a release would write "
                    "there.",
                    hint="Replace the symlink with the file itself.",
                )
    for relative in files:
        if relative is None:
            continue
        target = root / relative
        if outside(target):
            raise OutsideRepositoryError(
                f"{target} resolves to {_real(target)}, outside the repository {root}; a "
                "release would write there.",
                hint="Point tool.poetflow.changelog.root-changelog at a file inside the "
                "repository, or replace the symlink with the file itself.",
            )
