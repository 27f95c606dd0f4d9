"""Which locked distributions ``poetry install`` would install, read from ``poetry.lock`` (for uv).

Poetry's lock format 2.1 (Poetry 2) records, for every locked distribution, the dependency
groups that need it and the environment markers under which each group does
(``groups = [...]``, ``markers = "..."`` or ``markers = {group = "..."}``). ``poetry install``
keeps a distribution when one of the groups it installs needs it and that group's marker
holds for the target interpreter (extras requested: none, as ``poetry install`` without
``-E``); :func:`select_packages` applies the same rule. Older locks (2.0 and before) carry no
such record: Poetry re-resolves them, so PoetFlow hands those to ``poetry install``.

Freshness uses Poetry's own content hash of the relevant ``pyproject.toml`` tables
(:func:`poetflow.lockfile.freshness.lock_content_hash`, the one implementation), so a fresh
lock costs no Poetry start-up.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from poetflow.metadata import canonical_name

__all__ = [
    "PYPI_SIMPLE",
    "Lock",
    "LockError",
    "LockedPackage",
    "LockedSource",
    "install_groups",
    "marker_environment",
    "python_allowed",
    "read_lock",
    "select_packages",
]

PYPI_SIMPLE = "https://pypi.org/simple/"
# The first lock version that records groups and markers per package.
GROUPS_AND_MARKERS = (2, 1)

# Locks written before Poetry 2.3 hashed without [dependency-groups].
_GROUPS_HASHED_SINCE = (2, 3)
_GENERATOR_RE = re.compile(r"Poetry (\d+)\.(\d+)")


class LockError(Exception):
    """poetry.lock cannot be read (not TOML, or not a Poetry lock file)."""


@dataclass(frozen=True)
class LockedSource:
    """Where a locked distribution comes from: ``legacy`` (an index), ``directory``,
    ``file``, ``url`` or ``git``; None type means PyPI."""

    type: str | None
    url: str | None = None
    reference: str | None = None
    resolved_reference: str | None = None
    subdirectory: str | None = None


@dataclass(frozen=True)
class LockedPackage:
    """One ``[[package]]`` entry; ``name`` is canonical, ``hashes`` are ``sha256:...``."""

    name: str
    version: str
    groups: frozenset[str]
    markers: Mapping[str, str]  # group -> marker ("" for any)
    hashes: tuple[str, ...]
    source: LockedSource
    develop: bool = False
    optional: bool = False

    def needed(self, groups: Iterable[str], environment: Mapping[str, Any]) -> bool:
        """Does ``poetry install`` of ``groups`` install this for ``environment``?"""
        from poetry.core.version.markers import parse_marker

        for group in set(groups) & self.groups:
            marker = self.markers.get(group, "")
            if not marker or parse_marker(marker).validate(dict(environment)):
                return True
        return False


@dataclass(frozen=True)
class Lock:
    """A parsed poetry.lock; ``version`` is its lock-version, ``generated_by`` the Poetry
    version in its header (None when the header is missing)."""

    path: Path
    version: tuple[int, int]
    content_hash: str | None
    python_versions: str | None
    packages: tuple[LockedPackage, ...] = field(default_factory=tuple)
    generated_by: tuple[int, int] | None = None

    @property
    def records_groups(self) -> bool:
        return self.version >= GROUPS_AND_MARKERS


def _version_tuple(text: str) -> tuple[int, int]:
    parts = [*text.split("."), "0"][:2]
    try:
        return int(parts[0]), int(parts[1])
    except ValueError:
        raise LockError(f"lock-version {text!r} is not a version") from None


def _markers(raw: object, groups: frozenset[str]) -> dict[str, str]:
    if raw is None:
        return dict.fromkeys(groups, "")
    if isinstance(raw, str):
        return dict.fromkeys(groups, raw)
    if isinstance(raw, Mapping):
        by_group = {canonical_name(str(k)): str(v) for k, v in raw.items()}
        return {group: by_group.get(group, "") for group in groups}
    raise LockError(f"markers {raw!r} is neither a string nor a table")


def _package(entry: Mapping[str, Any]) -> LockedPackage:
    try:
        name = canonical_name(str(entry["name"]))
        version = str(entry["version"])
    except KeyError as exc:
        raise LockError(f"a [[package]] entry has no {exc.args[0]!r}") from None
    groups = frozenset(canonical_name(str(g)) for g in entry.get("groups", ("main",)))
    files = entry.get("files", [])
    hashes = tuple(
        str(item["hash"]) for item in files if isinstance(item, Mapping) and item.get("hash")
    )
    raw_source = entry.get("source") or {}
    source = LockedSource(
        type=raw_source.get("type"),
        url=raw_source.get("url"),
        reference=raw_source.get("reference"),
        resolved_reference=raw_source.get("resolved_reference"),
        subdirectory=raw_source.get("subdirectory"),
    )
    return LockedPackage(
        name=name,
        version=version,
        groups=groups,
        markers=_markers(entry.get("markers"), groups),
        hashes=hashes,
        source=source,
        develop=bool(entry.get("develop", False)),
        optional=bool(entry.get("optional", False)),
    )


def read_lock(path: Path) -> Lock:
    """Parse ``path``; raises LockError when it is not a readable Poetry lock file."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        raw = path.read_bytes()
        data = tomllib.loads(raw.decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise LockError(str(exc)) from None
    metadata = data.get("metadata")
    if not isinstance(metadata, Mapping):
        raise LockError("it has no [metadata] table")
    header = raw[:200].decode("utf-8", "replace").splitlines()[:1]
    match = _GENERATOR_RE.search(header[0]) if header else None
    return Lock(
        path=path,
        version=_version_tuple(str(metadata.get("lock-version", "1.0"))),
        content_hash=metadata.get("content-hash"),
        python_versions=metadata.get("python-versions"),
        packages=tuple(_package(entry) for entry in data.get("package", [])),
        generated_by=(int(match.group(1)), int(match.group(2))) if match else None,
    )


def lock_matches(lock: Lock, pyproject: Mapping[str, Any]) -> bool:
    """Does the lock's content-hash match ``pyproject`` (Poetry's freshness test)?"""
    if lock.content_hash is None:
        return False
    from poetflow.lockfile.freshness import lock_content_hash

    if lock_content_hash(pyproject) == lock.content_hash:
        return True
    old = lock.generated_by is not None and lock.generated_by < _GROUPS_HASHED_SINCE
    return old and lock_content_hash(pyproject, with_dependency_groups=False) == lock.content_hash


def install_groups(pyproject: Mapping[str, Any]) -> frozenset[str]:
    """The groups plain ``poetry install`` installs: main and every non-optional group
    (``[tool.poetry.group.*]``, legacy ``dev-dependencies``, PEP 735 ``[dependency-groups]``)."""
    poetry = pyproject.get("tool", {}).get("poetry", {})
    groups = {"main"}
    declared = poetry.get("group", {})
    if poetry.get("dev-dependencies"):
        groups.add("dev")
    names = set(declared) | set(pyproject.get("dependency-groups", {}))
    for name in names:
        table = declared.get(name, {})
        if not (isinstance(table, Mapping) and table.get("optional", False)):
            groups.add(str(name))
    return frozenset(canonical_name(group) for group in groups)


def marker_environment() -> dict[str, Any]:
    """Marker values of this interpreter (the one test environments are created from),
    with no extras requested."""
    from packaging.markers import default_environment

    environment: dict[str, Any] = dict(default_environment())
    environment["extra"] = set()
    return environment


def python_allowed(lock: Lock, python_full_version: str) -> bool:
    """Does the project's Python constraint (as locked) allow this interpreter?"""
    if not lock.python_versions:
        return True
    from poetry.core.constraints.version import Version, parse_constraint

    try:
        return parse_constraint(lock.python_versions).allows(Version.parse(python_full_version))
    except ValueError:  # a constraint poetry-core cannot parse: let the installer decide
        return True


def select_packages(
    lock: Lock, groups: Iterable[str], environment: Mapping[str, Any]
) -> list[LockedPackage]:
    """What ``poetry install`` installs from a 2.1 lock, in lock order."""
    wanted = frozenset(groups)
    return [package for package in lock.packages if package.needed(wanted, environment)]


def sources_needed(packages: Sequence[LockedPackage]) -> list[tuple[str, str]]:
    """(name, index URL) of every index the selection comes from, PyPI for none."""
    indexes: dict[str, str] = {}
    for package in packages:
        source = package.source
        if source.type is None:
            indexes.setdefault("pypi", PYPI_SIMPLE)
        elif source.type == "legacy" and source.url:
            indexes.setdefault(source.reference or source.url, source.url)
    return list(indexes.items())
