"""Where a package's own code holds its version: ``__version__`` literals, VERSION files.

A release rewrites pyproject.toml and the files listed in ``version-files``; a version
written anywhere else goes stale with the first release (wheels saying ``__version__ =
"0.1.0"`` after 0.2.0). This finds the usual places so that ``doctor`` can warn about
the ones PoetFlow does not update, and ``init`` can list them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["VersionSource", "find_version_sources", "unmanaged_version_sources"]

_ASSIGNMENT_RE = re.compile(
    r"^(?P<variable>__version__|VERSION|version)[ \t]*(?::[^=\n]+)?=[ \t]*"
    r"['\"](?P<value>[^'\"\n]+)['\"]",
    re.MULTILINE,
)
_VERSION_LIKE = re.compile(r"^v?\d+(\.\d+)*")


@dataclass(frozen=True)
class VersionSource:
    """A file of the package holding its version: ``variable`` None for a VERSION file."""

    path: str  # relative to the package folder, POSIX
    variable: str | None
    value: str

    @property
    def setting(self) -> str:
        """How it is listed in ``version-files``."""
        if self.variable in (None, "__version__"):
            return self.path
        return f"{self.path}:{self.variable}"


def _module_dirs(package: Any) -> Iterator[Path]:
    """The import packages a Poetry project ships: ``packages = [...]`` or its name."""
    poetry = package.data.get("tool", {}).get("poetry", {})
    declared = poetry.get("packages") if isinstance(poetry, dict) else None
    if isinstance(declared, list) and declared:
        for item in declared:
            if isinstance(item, dict) and isinstance(item.get("include"), str):
                base = package.path / str(item.get("from", "."))
                yield base / item["include"]
        return
    module = package.name.replace("-", "_")
    yield package.path / "src" / module
    yield package.path / module


def find_version_sources(package: Any) -> list[VersionSource]:
    """Version literals in the package's ``__init__.py``/``_version.py``/``__about__.py``
    and a VERSION file in its folder."""
    found: list[VersionSource] = []
    for directory in _module_dirs(package):
        for name in ("__init__.py", "_version.py", "__about__.py", "version.py"):
            path = directory / name
            if not path.is_file():
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            for match in _ASSIGNMENT_RE.finditer(text):
                if _VERSION_LIKE.match(match["value"]):
                    relative = path.relative_to(package.path).as_posix()
                    found.append(VersionSource(relative, match["variable"], match["value"]))
    version_file = package.path / "VERSION"
    if version_file.is_file():
        value = version_file.read_text(encoding="utf-8", errors="replace").strip()
        if _VERSION_LIKE.match(value):
            found.append(VersionSource("VERSION", None, value))
    return found


def unmanaged_version_sources(package: Any) -> list[VersionSource]:
    """The version sources a release would leave behind (not in ``version-files``)."""
    managed = {(path, variable) for path, variable in package.config.version_files}
    managed_paths = {path for path, _variable in package.config.version_files}
    return [
        source
        for source in find_version_sources(package)
        if (source.path, source.variable or "__version__") not in managed
        and not (source.variable is None and source.path in managed_paths)
    ]
