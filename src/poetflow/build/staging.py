"""A package's build input copied into a staging folder, internal path dependencies pinned.

The working tree is never touched: the staging copy gets a pyproject.toml in which every
path dependency on another member becomes a version constraint (``internal-constraint``),
so that wheel METADATA, sdist PKG-INFO and the pyproject.toml inside the sdist carry
``name>=V,<W`` instead of ``name @ file:///...``, and the sdist rebuilds anywhere.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poetflow.build.constraints import internal_constraint
from poetflow.build.sources import SourceFile
from poetflow.errors import PoetFlowError
from poetflow.metadata import canonical_name
from poetflow.workspace import Package, Workspace

__all__ = [
    "PinnedDependency",
    "StagedPyproject",
    "StagingError",
    "is_staging_path",
    "rewrite_pyproject",
    "stage",
    "staging_directory",
]

_STAGING_PREFIX = "poetflow-build-"


class StagingError(PoetFlowError):
    """A package's pyproject.toml cannot be turned into a publishable one."""


@dataclass(frozen=True)
class PinnedDependency:
    """An internal dependency as it appears in the built metadata."""

    name: str
    constraint: str


@dataclass(frozen=True)
class StagedPyproject:
    """The rewritten pyproject.toml text and what was pinned in it."""

    text: str
    pinned: tuple[PinnedDependency, ...]


class _Pinner:
    """Decides which dependency entries are internal and what constraint each gets."""

    def __init__(self, workspace: Workspace, package: Package) -> None:
        self.workspace = workspace
        self.package = package
        self.pinned: dict[str, PinnedDependency] = {}
        self._by_dir = {os.path.normpath(member.path): member for member in workspace.packages}

    def member_for(self, name: str, path: str | None) -> Package | None:
        if path is not None:
            found = self._by_dir.get(os.path.normpath(os.path.join(self.package.path, path)))
            if found is not None:
                return found
        member = self.workspace.by_name.get(canonical_name(name))
        if member is None or member.name == self.package.name:
            return None
        return member

    def constraint_for(self, member: Package) -> str:
        if member.version is None or member.dynamic_version:
            raise StagingError(
                f"{self.package.pyproject}: cannot pin the internal dependency {member.name!r}: "
                f"{member.relpath}/pyproject.toml has no static version.",
                hint="Give it a version (poetflow version set V) before building.",
            )
        try:
            constraint = internal_constraint(
                member.version, self.workspace.config.internal_constraint
            )
        except PoetFlowError as exc:
            raise StagingError(f"{member.pyproject}: {exc.message}", hint=exc.hint) from exc
        self.pinned[member.name] = PinnedDependency(member.name, constraint)
        return constraint


def _rewrite_poetry_table(table: MutableMapping[str, Any], pinner: _Pinner, drop: bool) -> None:
    """Pin path entries on members in a ``[tool.poetry...dependencies]`` table.

    ``drop`` (PEP 621 style main table): the entry only supplied a path source for a
    ``[project]`` requirement, which is pinned there, so the entry goes.
    """
    import tomlkit

    for name in list(table.keys()):
        spec = table[name]
        specs = list(spec) if isinstance(spec, list) else [spec]
        rewritten: list[Any] = []
        changed = False
        for item in specs:
            if not isinstance(item, MutableMapping) or "path" not in item:
                rewritten.append(item)
                continue
            member = pinner.member_for(name, str(item["path"]))
            if member is None:
                rewritten.append(item)  # an outside path: the verifier reports it
                continue
            changed = True
            constraint = pinner.constraint_for(member)
            rest = {k: v for k, v in item.items() if k not in ("path", "develop", "version")}
            if drop:
                continue
            if rest:
                entry = tomlkit.inline_table()
                entry["version"] = constraint
                entry.update(rest)
                rewritten.append(entry)
            else:
                rewritten.append(constraint)
        if not changed:
            continue
        if not rewritten:
            del table[name]
        elif isinstance(spec, list):
            array = tomlkit.array()
            array.extend(rewritten)
            table[name] = array
        else:
            table[name] = rewritten[0]


def _rewrite_requirements(
    requirements: list[Any], pinner: _Pinner, path_sources: dict[str, str]
) -> None:
    """Pin PEP 508 strings naming members: those with a path source, a URL or no version."""
    from packaging.requirements import InvalidRequirement, Requirement

    for index, raw in enumerate(requirements):
        try:
            requirement = Requirement(str(raw))
        except InvalidRequirement:
            continue  # metadata.py already rejects what cannot be read at all
        canonical = canonical_name(requirement.name)
        member = pinner.member_for(requirement.name, path_sources.get(canonical))
        if member is None:
            continue
        if canonical not in path_sources and requirement.url is None and requirement.specifier:
            continue  # a plain versioned requirement is already publishable
        # Written by hand: str(Requirement) would sort the specifiers ("<2,>=1.2").
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        marker = f"; {requirement.marker}" if requirement.marker else ""
        constraint = pinner.constraint_for(member)
        requirements[index] = f"{requirement.name}{extras}{constraint}{marker}"


def _tables(document: MutableMapping[str, Any], *keys: str) -> MutableMapping[str, Any] | None:
    current: Any = document
    for key in keys:
        if not isinstance(current, MutableMapping) or key not in current:
            return None
        current = current[key]
    return current if isinstance(current, MutableMapping) else None


def _referenced_files(document: MutableMapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(setting, path) for every file or folder the metadata names relative to the package."""
    project = _tables(document, "project") or {}
    poetry = _tables(document, "tool", "poetry") or {}
    readme = project.get("readme")
    if isinstance(readme, MutableMapping):
        readme = readme.get("file")
    if isinstance(readme, str):
        yield "[project] readme", readme
    license_ = project.get("license")
    if isinstance(license_, MutableMapping) and isinstance(license_.get("file"), str):
        yield "[project] license", license_["file"]
    for pattern in project.get("license-files") or ():
        if isinstance(pattern, str):
            yield "[project] license-files", pattern
    readmes = poetry.get("readme")
    for item in [readmes] if isinstance(readmes, str) else readmes or ():
        if isinstance(item, str):
            yield "[tool.poetry] readme", item
    for key in ("include", "exclude"):
        for item in poetry.get(key) or ():
            value = item.get("path") if isinstance(item, MutableMapping) else item
            if isinstance(value, str):
                yield f"[tool.poetry] {key}", value
    for item in poetry.get("packages") or ():
        if isinstance(item, MutableMapping):
            for key in ("include", "from"):
                if isinstance(item.get(key), str):
                    yield f"[tool.poetry] packages {key}", item[key]


def _check_files_inside(document: MutableMapping[str, Any], package: Package) -> None:
    """A build copies only the package folder: a file named outside it cannot be packaged
    (``poetry build`` fails on it too, with a path error); say so before building."""
    for setting, value in _referenced_files(document):
        normalized = os.path.normpath(value.replace("\\", "/"))
        if os.path.isabs(normalized) or normalized == ".." or normalized.startswith("../"):
            raise StagingError(
                f"{package.pyproject}: {setting} {value!r} is outside the package folder "
                f"{package.relpath}; a distribution can only contain files from inside it.",
                hint="Copy the file into the package folder, or put a symlink to it there "
                "(the build copies what the link points at).",
            )


def rewrite_pyproject(text: str, package: Package, workspace: Workspace) -> StagedPyproject:
    """Return ``text`` with every internal path dependency turned into a version constraint.

    Layout and comments are kept (tomlkit), so the sdist's pyproject.toml reads like the
    original; dependency groups are pinned too so that the sdist has no dangling paths.
    """
    import tomlkit

    document = tomlkit.parse(text)
    _check_files_inside(document, package)
    pinner = _Pinner(workspace, package)
    project = _tables(document, "project")
    poetry_main = _tables(document, "tool", "poetry", "dependencies")
    pep621 = project is not None and "dependencies" in project

    path_sources: dict[str, str] = {}
    if poetry_main is not None:
        for name, spec in poetry_main.items():
            if isinstance(spec, MutableMapping) and "path" in spec:
                path_sources[canonical_name(name)] = str(spec["path"])
    if project is not None:
        requirements = project.get("dependencies")
        if isinstance(requirements, list):
            _rewrite_requirements(requirements, pinner, path_sources)
        optional = project.get("optional-dependencies")
        if isinstance(optional, MutableMapping):
            for extra_requirements in optional.values():
                if isinstance(extra_requirements, list):
                    _rewrite_requirements(extra_requirements, pinner, path_sources)
    if poetry_main is not None:
        _rewrite_poetry_table(poetry_main, pinner, drop=pep621)
        poetry = _tables(document, "tool", "poetry")
        if not poetry_main and poetry is not None:
            del poetry["dependencies"]
    dev = _tables(document, "tool", "poetry", "dev-dependencies")
    if dev is not None:
        _rewrite_poetry_table(dev, pinner, drop=False)
    groups = _tables(document, "tool", "poetry", "group")
    for group in (groups or {}).values():
        group_deps = _tables(group, "dependencies") if isinstance(group, MutableMapping) else None
        if group_deps is not None:
            _rewrite_poetry_table(group_deps, pinner, drop=False)
    return StagedPyproject(tomlkit.dumps(document), tuple(pinner.pinned.values()))


def stage(files: Iterable[SourceFile], pyproject: StagedPyproject, target: Path) -> Path:
    """Copy ``files`` into ``target`` (modes kept: they reach the archives) and write the
    rewritten pyproject.toml; return ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for source in files:
        if source.relpath == "pyproject.toml":
            continue
        destination = target / source.relpath
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source.path, destination)
        shutil.copymode(source.path, destination)
    (target / "pyproject.toml").write_text(pyproject.text, encoding="utf-8")
    return target


def _staging_base() -> str | None:
    """Where staging folders go: TMPDIR when set, else /dev/shm when it is usable.

    A build creates and deletes a few hundred small files per package; on tmpfs that is
    ~40x cheaper than on a disk-backed /tmp (measured: 16 ms vs 0.4 ms per package).
    """
    if os.environ.get("TMPDIR"):
        return None
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return None


@contextmanager
def staging_directory(name: str) -> Iterator[Path]:
    """A fresh, private folder for one package's staging copy and build output."""
    prefix = f"{_STAGING_PREFIX}{name}-"
    with tempfile.TemporaryDirectory(prefix=prefix, dir=_staging_base()) as path:
        yield Path(path)


def is_staging_path(path: Path) -> bool:
    """Is ``path`` inside a staging folder made by :func:`staging_directory`?"""
    return any(part.startswith(_STAGING_PREFIX) for part in path.parts)
