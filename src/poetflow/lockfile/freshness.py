"""Is a poetry.lock fresh? Poetry's content-hash of a pyproject.toml, computed without Poetry.

``poetry check --lock`` and ``poetry install`` compare the ``content-hash`` in poetry.lock
with a hash of the pyproject.toml keys that decide the resolution (Poetry's Locker). The
same selection here lets doctor, ``poetflow lock --check`` and a release tell, and write,
a fresh lock without starting Poetry: one implementation for all three.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "content_hash_of",
    "generated_by",
    "hash_for_lock",
    "lock_content_hash",
    "lock_is_fresh",
    "text_is_fresh",
]

# The keys of a pyproject.toml that Poetry's Locker hashes (poetry/packages/locker.py).
_LEGACY_POETRY_KEYS = ("dependencies", "source", "extras", "dev-dependencies")
_POETRY_KEYS = (*_LEGACY_POETRY_KEYS, "group")
_PROJECT_KEYS = ("requires-python", "dependencies", "optional-dependencies")
_GENERATED_BY_RE = re.compile(r"Poetry ([0-9][^ ]*)")
_CONTENT_HASH_RE = re.compile(r'^content-hash = "([0-9a-f]*)"', re.MULTILINE)


def lock_content_hash(pyproject: Mapping[str, Any], *, with_dependency_groups: bool = True) -> str:
    """The content-hash Poetry writes into poetry.lock for this pyproject.toml data."""
    project = pyproject.get("project", {})
    groups = pyproject.get("dependency-groups", {}) if with_dependency_groups else {}
    poetry = pyproject.get("tool", {}).get("poetry", {})
    relevant_project = {key: project[key] for key in _PROJECT_KEYS if project.get(key) is not None}
    relevant_poetry: dict[str, Any] = {}
    for key in _POETRY_KEYS:
        value = poetry.get(key)
        # Legacy keys are hashed even when absent (as null), unless [project] or
        # [dependency-groups] carry relevant content: Poetry's backwards compatibility.
        if value is None and (key not in _LEGACY_POETRY_KEYS or relevant_project or groups):
            continue
        relevant_poetry[key] = value
    relevant: dict[str, Any] = {}
    if relevant_project:
        relevant["project"] = relevant_project
    if groups:
        relevant["dependency-groups"] = groups
    content: Any = relevant_poetry
    if relevant:
        content = {**relevant, "tool": {"poetry": relevant_poetry}}
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def generated_by(lock_text: str) -> str | None:
    """The Poetry version named in the lock's first line (None when it names none)."""
    first = lock_text.split("\n", 1)[0]
    match = _GENERATED_BY_RE.search(first)
    return match.group(1) if match else None


def content_hash_of(lock_text: str) -> str | None:
    """The ``content-hash`` recorded in a lock's text (found without parsing the TOML)."""
    match = _CONTENT_HASH_RE.search(lock_text)
    return match.group(1) if match else None


def _hashes_without_groups(lock_text: str) -> bool:
    """Locks written before Poetry 2.3 did not hash [dependency-groups]."""
    from packaging.version import InvalidVersion, Version

    version = generated_by(lock_text)
    if version is None:
        return False
    try:
        return Version(version) < Version("2.3.0")
    except InvalidVersion:
        return False


def text_is_fresh(pyproject: Mapping[str, Any], lock_text: str) -> bool:
    """:func:`lock_is_fresh` for a lock's text (a lock about to be written, say)."""
    recorded = content_hash_of(lock_text)
    if recorded is None:
        return False
    if recorded == lock_content_hash(pyproject):
        return True
    return _hashes_without_groups(lock_text) and recorded == lock_content_hash(
        pyproject, with_dependency_groups=False
    )


def lock_is_fresh(pyproject: Mapping[str, Any], lock_file: Path) -> bool:
    """Would ``poetry check --lock`` accept this lock file? (without starting Poetry)"""
    from poetflow.errors import MetadataError

    try:
        text = lock_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MetadataError(f"Cannot read {lock_file}: {exc}.") from exc
    return text_is_fresh(pyproject, text)


def hash_for_lock(pyproject: Mapping[str, Any], lock_text: str) -> str:
    """The content-hash to record in ``lock_text`` for ``pyproject``: the way the Poetry
    that wrote the lock hashes, so that lock stays readable by the Poetry its team uses."""
    return lock_content_hash(
        pyproject, with_dependency_groups=not _hashes_without_groups(lock_text)
    )
