"""A package's build input files: its folder minus git-ignored files and build output."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

from poetflow.git import git_command
from poetflow.workspace import Package

__all__ = ["SourceFile", "SourceTree"]

# Never build input: bytecode caches anywhere; at the top of a package also its output
# (dist/) and tool folders (node_modules, and hidden ones: .venv, .tox, .mypy_cache...),
# which poetry-core never puts in a distribution unless asked explicitly. Deeper hidden
# folders stay: poetry-core ships them when they sit inside a module.
_SKIPPED_TOP_DIRS = frozenset({"dist", "node_modules"})


@dataclass(frozen=True)
class SourceFile:
    """A file of a package: ``relpath`` is POSIX, relative to the package folder."""

    relpath: str
    path: Path


class SourceTree:
    """Lists package files for one workspace, asking git once which paths it ignores.

    poetry-core leaves git-ignored files out of distributions; a staging copy has no git
    repository around it, so the ignored files must not be copied in the first place.
    """

    def __init__(self, root: Path) -> None:
        self._root = root
        self._lock = threading.Lock()
        self._ignored: tuple[frozenset[str], tuple[str, ...]] | None = None

    def _ignored_paths(self) -> tuple[frozenset[str], tuple[str, ...]]:
        with self._lock:
            if self._ignored is None:
                self._ignored = self._ask_git()
            return self._ignored

    def _ask_git(self) -> tuple[frozenset[str], tuple[str, ...]]:
        output = git_command(
            ["ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z"],
            self._root,
        )
        if output is None:  # no git, or not a git work tree: nothing is ignored
            return frozenset(), ()
        entries = [entry for entry in output.split("\0") if entry]
        files = frozenset(entry for entry in entries if not entry.endswith("/"))
        dirs = tuple(entry for entry in entries if entry.endswith("/"))
        return files, dirs

    def files(self, package: Package) -> list[SourceFile]:
        """Every input file of ``package``, sorted by relative path."""
        ignored_files, ignored_dirs = self._ignored_paths()
        prefix = "" if package.relpath in ("", ".") else package.relpath.rstrip("/") + "/"
        found: list[SourceFile] = []
        for current, dirnames, filenames in os.walk(package.path):
            relative_dir = os.path.relpath(current, package.path)
            base = "" if relative_dir == "." else relative_dir.replace(os.sep, "/") + "/"
            dirnames[:] = sorted(
                name
                for name in dirnames
                if name != "__pycache__"
                and not (base == "" and (name in _SKIPPED_TOP_DIRS or name.startswith(".")))
                and not _under(prefix + base + name + "/", ignored_dirs)
            )
            for name in filenames:
                if name.endswith((".pyc", ".pyo")):
                    continue
                relpath = base + name
                if prefix + relpath in ignored_files:
                    continue
                path = Path(current, name)
                if path.is_symlink() and not path.exists():
                    continue
                found.append(SourceFile(relpath, path))
        found.sort(key=lambda source: source.relpath)
        return found


def _under(path: str, ignored_dirs: tuple[str, ...]) -> bool:
    return any(path.startswith(directory) for directory in ignored_dirs)
