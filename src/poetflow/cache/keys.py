"""Cache keys: a sha256 over everything that can change a task's result.

A package's files are the ones its build reads (:class:`poetflow.build.sources.SourceTree`:
everything in its folder but what git ignores, build output and tool folders), hashed by
content, path and executable bit; its lock is one of them. A test's key holds those of the
package and of every member it depends on (runtime and development, transitively), the
commands and their variables, the hooks around them, the environment kind and installer,
and the interpreter (version, implementation, platform); so do the workspace's
``shared-paths`` (files outside every package that count for all of them). Every part
is length-prefixed so no two different sets of inputs can run together into the same
bytes.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterable
from pathlib import Path

from poetflow.workspace import Package, Workspace

__all__ = ["KeyBuilder", "digest_parts"]

# Bump when what a key covers changes, so that older entries are never hits.
SCHEMA = "poetflow-task/1"


def digest_parts(parts: Iterable[bytes | str]) -> str:
    sha = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        sha.update(len(data).to_bytes(8, "big"))
        sha.update(data)
    return sha.hexdigest()


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


class KeyBuilder:
    """Hashes members' files once per run, however many keys include them."""

    def __init__(self, workspace: Workspace) -> None:
        from poetflow.build.sources import SourceTree

        self.workspace = workspace
        self._sources = SourceTree(workspace.root)
        self._members: dict[tuple[str, frozenset[str]], str] = {}
        self._shared: str | None = None
        self._lock = threading.Lock()

    def shared_digest(self) -> str:
        """The content of ``[tool.poetflow] shared-paths``, files and folders alike."""
        with self._lock:
            if self._shared is not None:
                return self._shared
        parts: list[bytes | str] = []
        root = self.workspace.root
        for relative in sorted(self.workspace.config.shared_paths):
            path = root / relative
            files = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
            parts.append(relative)
            for file in files:
                if not file.is_file() or "__pycache__" in file.parts:
                    continue
                parts += [file.relative_to(root).as_posix(), _file_sha256(file)]
        digest = digest_parts(parts)
        with self._lock:
            self._shared = digest
        return digest

    def member_digest(self, package: Package, *, skip: Iterable[str] = ()) -> str:
        """The content of ``package``'s files; ``skip`` names files (relative to the
        package) a task itself writes, such as a JUnit report asked for in its folder."""
        skipped = frozenset(skip)
        cache_key = (package.name, skipped)
        with self._lock:
            if cache_key in self._members:
                return self._members[cache_key]
        parts: list[bytes | str] = [package.name]
        for source in self._sources.files(package):
            if source.relpath in skipped:
                continue
            try:
                content = _file_sha256(source.path)
            except OSError:  # vanished while listing: it is not an input any more
                continue
            executable = os.access(source.path, os.X_OK)
            parts += [source.relpath, str(int(executable)), content]
        digest = digest_parts(parts)
        with self._lock:
            self._members[cache_key] = digest
        return digest

    def forget(self) -> None:
        """Hash every member's files again next time: a task changed some (a new lock)."""
        with self._lock:
            self._members.clear()

    def closure(self, package: Package) -> list[Package]:
        """Every member ``package`` depends on, directly or not, in any kind of edge."""
        from poetflow.graph import ALL_EDGES

        graph = self.workspace.graph
        seen: dict[str, None] = {}
        stack = list(graph.dependencies_of(package.name, ALL_EDGES))
        while stack:
            name = stack.pop()
            if name in seen or name == package.name or name not in self.workspace.by_name:
                continue
            seen[name] = None
            stack.extend(graph.dependencies_of(name, ALL_EDGES))
        return [member for member in self.workspace.packages if member.name in seen]

    def key(self, kind: str, parts: Iterable[bytes | str]) -> str:
        return digest_parts([SCHEMA, kind, *parts])
