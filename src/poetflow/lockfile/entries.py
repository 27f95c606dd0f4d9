"""The ``[[package]]`` entries of a poetry.lock, found and edited in its text.

Poetry writes its lock in one regular layout (tomlkit, one ``[[package]]`` block per
locked package, ``name`` first, ``[metadata]`` last). A release changes a handful of
lines in it — a member's version, a member's constraint on another member, the content
hash — so those lines are edited in place: the bytes of every other entry (every
third-party pin and its file hashes) stay exactly as Poetry wrote them, and no 300 kB
lock is parsed as a whole. Each edited block is parsed again (it is valid TOML on its
own) to check that it says what was meant.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from poetflow.metadata import canonical_name

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["LockEntry", "LockText", "toml_string"]

_NAME_RE = re.compile(r'^name = "(?P<name>[^"]+)"$')
_VERSION_RE = re.compile(r'^version = "(?P<version>[^"]*)"$')
_KEY_RE = re.compile(r'^(?P<key>"[^"]+"|[A-Za-z0-9_.-]+) = ')
_HASH_RE = re.compile(r'^content-hash = "[0-9a-f]*"$')


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string, the way tomlkit writes a plain one."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class LockEntry:
    """One ``[[package]]`` block: lines ``start`` to ``end`` (exclusive) of the lock."""

    name: str
    start: int
    end: int
    _data: dict[str, Any] | None = None

    def data(self, lines: list[str]) -> dict[str, Any]:
        if self._data is None:
            parsed = tomllib.loads("\n".join(lines[self.start : self.end]))
            self._data = dict(parsed["package"][0])
        return self._data

    @property
    def cached(self) -> dict[str, Any]:
        if self._data is None:
            raise ValueError(f"the lock entry {self.name} was not read")
        return self._data


class LockText:
    """A poetry.lock as lines, with its entries indexed by canonical name."""

    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.entries: dict[str, LockEntry] = {}
        self.metadata_line: int | None = None
        starts = [i for i, line in enumerate(self.lines) if line == "[[package]]"]
        for position, start in enumerate(starts):
            end = starts[position + 1] if position + 1 < len(starts) else None
            if end is None:
                end = next(
                    (i for i in range(start + 1, len(self.lines)) if self.lines[i] == "[metadata]"),
                    len(self.lines),
                )
            match = _NAME_RE.match(self.lines[start + 1]) if start + 1 < len(self.lines) else None
            if match is None:
                raise ValueError(f"line {start + 2}: a [[package]] entry without a name first")
            self.entries[canonical_name(match["name"])] = LockEntry(match["name"], start, end)
        self.metadata_line = next(
            (i for i, line in enumerate(self.lines) if line == "[metadata]"), None
        )

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def entry(self, name: str) -> dict[str, Any] | None:
        found = self.entries.get(canonical_name(name))
        return found.data(self.lines) if found is not None else None

    def source(self, name: str) -> Mapping[str, Any]:
        data = self.entry(name) or {}
        source = data.get("source")
        return source if isinstance(source, Mapping) else {}

    def set_version(self, name: str, version: str) -> None:
        found = self.entries[canonical_name(name)]
        for index in range(found.start + 1, found.end):
            line = self.lines[index]
            if line.startswith("["):
                break
            if _VERSION_RE.match(line):
                self.lines[index] = f"version = {toml_string(version)}"
                found._data = None
                return
        raise ValueError(f"the lock entry {found.name} has no version line")

    def replace_dependency_constraint(self, name: str, dependency: str, new: str) -> bool:
        """In entry ``name``'s ``[package.dependencies]``, make ``dependency``'s version
        constraint ``new`` (a string value, or the ``version`` of an inline table). False
        when that entry records no single version constraint for it."""
        found = self.entries[canonical_name(name)]
        span = self._dependency_span(found, dependency)
        if span is None:
            return False
        first, last = span
        recorded = found.data(self.lines).get("dependencies") or {}
        wanted = canonical_name(dependency)
        value = next((v for k, v in recorded.items() if canonical_name(k) == wanted), None)
        if isinstance(value, Mapping):
            value = value.get("version")
        if not isinstance(value, str):
            return False
        before = "\n".join(self.lines[first:last])
        after = before.replace(toml_string(value), toml_string(new), 1)
        if after == before:
            return value == new
        self.lines[first:last] = after.split("\n")
        found._data = None
        return True

    def _dependency_span(self, found: LockEntry, dependency: str) -> tuple[int, int] | None:
        inside = False
        wanted = canonical_name(dependency)
        index = found.start + 1
        while index < found.end:
            line = self.lines[index]
            if line.startswith("["):
                inside = line == "[package.dependencies]"
            elif inside:
                match = _KEY_RE.match(line)
                if match and canonical_name(match["key"].strip('"')) == wanted:
                    last = index + 1
                    # A list of constraints spans lines until the next key or table.
                    while last < found.end and self.lines[last].startswith((" ", "]")):
                        last += 1
                    return index, last
            index += 1
        return None

    def set_content_hash(self, value: str) -> None:
        if self.metadata_line is None:
            raise ValueError("the lock has no [metadata] table")
        for index in range(self.metadata_line + 1, len(self.lines)):
            if _HASH_RE.match(self.lines[index]):
                self.lines[index] = f'content-hash = "{value}"'
                return
        raise ValueError("the lock's [metadata] has no content-hash")
