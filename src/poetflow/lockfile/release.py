"""What a release changes in each poetry.lock, computed without a resolver.

A release moves members' versions and some dependents' constraints on them. In a lock
that holds a member from its folder (a path dependency: ``[package.source] type =
"directory"``) the member's entry takes the new version and its new constraints on other
members; the content-hash is recomputed from the new pyproject.toml the way Poetry does.
Every third-party entry stays byte for byte. Where the lock holds a member from a package
index instead, a moved constraint may exclude the locked version: only a resolver can
settle that, and only once the new version is published, so that lock is *deferred* —
``poetflow run`` relocks it after its publish stage; elsewhere the release stops first.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poetflow.errors import PoetFlowError
from poetflow.lockfile.entries import LockText
from poetflow.lockfile.freshness import hash_for_lock, text_is_fresh
from poetflow.metadata import canonical_name

__all__ = [
    "DeferredLock",
    "LockError",
    "LockOwner",
    "LockPlan",
    "lock_owners",
    "plan_lock_edits",
    "pretty_constraint",
]

LOCK_FILENAME = "poetry.lock"


class LockError(PoetFlowError):
    """A poetry.lock that a release cannot update consistently (exit 2, nothing written)."""


@dataclass(frozen=True)
class LockOwner:
    """A project folder with a poetry.lock: a member, or the root project."""

    name: str  # the member's name; "" for a root project that is not a member
    folder: Path
    relpath: str
    data: Mapping[str, Any]

    @property
    def lock(self) -> Path:
        return self.folder / LOCK_FILENAME

    @property
    def label(self) -> str:
        return self.name or "the root project"


@dataclass(frozen=True)
class DeferredLock:
    """A lock that resolves ``members`` (name, new version) from an index: it is relocked
    once they are published."""

    owner: str
    relpath: str
    members: tuple[tuple[str, str], ...]

    def describe(self) -> str:
        shown = ", ".join(f"{name} {version}" for name, version in self.members)
        where = f"{self.relpath}/{LOCK_FILENAME}" if self.relpath else LOCK_FILENAME
        return f"{where} resolves {shown} from a package index"


@dataclass(frozen=True)
class LockPlan:
    """The new text of each lock the release changes, and the locks it defers."""

    edits: tuple[tuple[Path, str, str], ...]  # (lock file, old text, new text)
    deferred: tuple[DeferredLock, ...]


def lock_owners(workspace: Any) -> list[LockOwner]:
    """Every folder of the workspace holding a pyproject.toml and a poetry.lock."""
    from poetflow.tomlfile import read_toml

    owners = [
        LockOwner(package.name, package.path, package.relpath, package.data)
        for package in workspace.packages
        if (package.path / LOCK_FILENAME).is_file()
    ]
    root = workspace.root
    root_project = (root / LOCK_FILENAME).is_file() and (root / "pyproject.toml").is_file()
    if root_project and not any(owner.folder == root for owner in owners):
        owners.insert(0, LockOwner("", root, "", read_toml(root / "pyproject.toml")))
    return owners


def pretty_constraint(text: str, pep508: bool) -> str:
    """The constraint as Poetry records it in a lock entry: a Poetry constraint as written,
    a PEP 508 requirement's version part normalised by poetry-core (``~=1.2`` is
    ``>=1.2,<2.0``)."""
    if not pep508:
        return text
    from poetry.core.packages.dependency import Dependency

    return str(Dependency.create_from_pep_508(text).pretty_constraint)


def _is_member_folder(owner: LockOwner, source: Mapping[str, Any], member: Any) -> bool:
    if source.get("type") != "directory" or not isinstance(source.get("url"), str):
        return False
    target = os.path.normpath(os.path.join(owner.folder, source["url"]))
    return bool(target == os.path.normpath(member.path))


def _stale(owner: LockOwner) -> LockError:
    where = f"{owner.relpath}/{LOCK_FILENAME}" if owner.relpath else LOCK_FILENAME
    return LockError(
        f"{where} of {owner.label} is already out of date with its pyproject.toml, so a "
        "release cannot update it consistently; nothing was changed.",
        hint=f"Refresh it first: `poetflow lock{f' -p {owner.name}' if owner.name else ''}` "
        "(Poetry keeps every locked version), commit it, then release.",
    )


def _disagrees(owner: LockOwner, member: str, dependency: str, expected: str) -> LockError:
    where = f"{owner.relpath}/{LOCK_FILENAME}" if owner.relpath else LOCK_FILENAME
    return LockError(
        f"{where} records {member}'s constraint on {dependency} differently from "
        f"{member}'s pyproject.toml ({expected!r}), so only a resolver can update it; "
        "nothing was changed.",
        hint=f"Run `poetflow lock{f' -p {owner.name}' if owner.name else ''}` (Poetry keeps "
        "every locked version), commit the lock, then release.",
    )


def _declared_on_members(data: Mapping[str, Any], workspace: Any) -> dict[str, str]:
    """A member's runtime constraints on other members, as a lock entry records them.

    Poetry reads a path dependency's own requirements from ``[project]`` when it has
    them (PEP 508, normalised), else from ``[tool.poetry.dependencies]`` (as written).
    """
    from poetflow.versioning.edits import runtime_declarations

    found: dict[str, str] = {}
    for declaration in runtime_declarations(data):
        if declaration.dependency in workspace.by_name and declaration.dependency not in found:
            found[declaration.dependency] = pretty_constraint(declaration.text, declaration.pep508)
    return found


def _lock_one(
    owner: LockOwner,
    workspace: Any,
    versions: Mapping[str, str],
    changes: Mapping[str, Sequence[Any]],
    new_data: Mapping[str, Mapping[str, Any]],
    old_text: str,
) -> tuple[str | None, DeferredLock | None]:
    from poetflow.versioning.constraints import admits

    own_data = new_data.get(owner.name, owner.data) if owner.name else owner.data
    lock = LockText(old_text)
    members = [name for name in lock.entries if name in workspace.by_name and name != owner.name]
    directory = sorted(
        name
        for name in members
        if _is_member_folder(owner, lock.source(name), workspace.by_name[name])
    )
    # Members held from their folder take their version and their constraints on other
    # members from it, as Poetry would read them now: the release's new ones, and what an
    # earlier release (or a hand edit) left behind.
    planned: list[tuple[str, str | None, dict[str, str]]] = []
    for name in directory:
        member = workspace.by_name[name]
        entry = lock.entry(name) or {}
        version = versions.get(name) or member.version
        declared = _declared_on_members(new_data.get(name, member.data), workspace)
        recorded = entry.get("dependencies", {})
        moved = {}
        for dependency, expected in declared.items():
            value = next((v for k, v in recorded.items() if canonical_name(k) == dependency), None)
            current = value if isinstance(value, str) else None
            if isinstance(value, Mapping) and isinstance(value.get("version"), str):
                current = value["version"]
            if current is not None and current != expected:
                moved[dependency] = expected
            elif current is None and isinstance(value, list):
                raise _disagrees(owner, name, dependency, expected)
        new_version = version if version != entry.get("version") else None
        if new_version is not None or moved:
            planned.append((name, new_version, moved))
    if not planned and owner.name not in changes:
        return None, None
    if not text_is_fresh(owner.data, old_text):
        raise _stale(owner)
    constraints: dict[str, list[str]] = {}
    for change in changes.get(owner.name, ()):
        constraints.setdefault(change.dependency, []).append(
            pretty_constraint(change.new, change.pep508)
        )
    for name, version, moved in planned:
        if version is not None:
            lock.set_version(name, version)
        for dependency, expected in moved.items():
            if not lock.replace_dependency_constraint(name, dependency, expected):
                raise _disagrees(owner, name, dependency, expected)
            constraints.setdefault(dependency, []).append(expected)
    waiting = []
    for name in members:
        if name in directory or name not in versions:
            continue
        locked = str((lock.entry(name) or {}).get("version", ""))
        if any(admits(constraint, locked) is False for constraint in constraints.get(name, ())):
            waiting.append((name, versions[name]))
    if waiting:
        return None, DeferredLock(owner.name, owner.relpath, tuple(waiting))
    lock.set_content_hash(hash_for_lock(own_data, old_text))
    new_text = lock.text
    for name, version, _moved in planned:
        if version is not None and (lock.entry(name) or {}).get("version") != version:
            raise ValueError(f"the entry of {name} did not take its new version")
    if not text_is_fresh(own_data, new_text):
        raise ValueError("the new content-hash does not match pyproject.toml")
    return (new_text if new_text != old_text else None), None


def plan_lock_edits(
    workspace: Any,
    versions: Mapping[str, str],
    changes: Mapping[str, Sequence[Any]],
    new_pyprojects: Mapping[str, str],
) -> LockPlan:
    """The lock edits of a release: ``versions`` are the members' new versions,
    ``changes`` each package's moved declarations (ConstraintChange), ``new_pyprojects``
    the new text of each pyproject.toml the release rewrites (by package name)."""
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    edits = []
    deferred = []
    new_data = {name: tomllib.loads(text) for name, text in new_pyprojects.items()}
    for owner in lock_owners(workspace):
        try:
            old_text = owner.lock.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LockError(f"Cannot read {owner.lock}: {exc}.") from exc
        try:
            new_text, waiting = _lock_one(owner, workspace, versions, changes, new_data, old_text)
        except ValueError as exc:
            raise LockError(
                f"{owner.lock} is not in the layout Poetry writes ({exc}), so PoetFlow "
                "cannot update it; nothing was changed.",
                hint=f"Regenerate it with `poetry lock` in {owner.folder}, commit it, "
                "then release.",
            ) from exc
        if waiting is not None:
            deferred.append(waiting)
        elif new_text is not None:
            edits.append((owner.lock, old_text, new_text))
    return LockPlan(tuple(edits), tuple(deferred))
