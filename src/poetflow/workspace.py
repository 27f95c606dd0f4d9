"""The workspace model: find the monorepo root, its member packages and their internal edges."""

from __future__ import annotations

import fnmatch
import logging
import os
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poetflow.config import (
    Config,
    PackageConfig,
    check_tag_format,
    parse_config,
    parse_package_config,
)
from poetflow.containment import check_inside_root
from poetflow.errors import (
    DuplicatePackageError,
    MetadataError,
    MissingPathDependencyError,
    UnknownPackageError,
    WorkspaceNotFoundError,
)
from poetflow.metadata import (
    DependencyKind,
    MetadataStyle,
    canonical_name,
    read_project_metadata,
)
from poetflow.tomlfile import read_toml

if TYPE_CHECKING:
    from poetflow.graph import DependencyGraph

__all__ = [
    "InternalDependency",
    "Package",
    "Workspace",
    "find_root",
    "load_workspace",
]

logger = logging.getLogger(__name__)

# Folders no package lives in; skipping them keeps `**` globs out of caches and installs.
_IGNORED_DIRS = frozenset({"node_modules", "__pycache__", "site-packages"})
# A package's build output: skipped inside a package folder only, so that a member may
# well live at packages/build or packages/dist.
_OUTPUT_DIRS = frozenset({"dist", "build"})


@dataclass(frozen=True)
class InternalDependency:
    """An edge from one member to another.

    ``kind`` is ``runtime`` when any declaration reaches the built metadata (main
    dependencies, extras) and ``dev`` when it only appears in groups.
    """

    name: str
    kind: DependencyKind
    groups: tuple[str, ...]
    extras: tuple[str, ...]
    path: str | None
    constraint: str | None
    declared_in: tuple[str, ...]


@dataclass(frozen=True)
class Package:
    """One member package of the workspace; ``name`` is the canonical (PEP 503) name."""

    name: str
    display_name: str
    version: str | None
    dynamic_version: bool
    style: MetadataStyle
    path: Path
    relpath: str
    build_backend: str | None
    dependencies: tuple[InternalDependency, ...]
    # The package's own [tool.poetflow] settings, merged over the workspace's.
    config: PackageConfig = field(default_factory=PackageConfig, compare=False, repr=False)
    data: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def pyproject(self) -> Path:
        return self.path / "pyproject.toml"

    def relpath_from(self, base: Path) -> str:
        """This package's folder relative to ``base`` (e.g. the git work tree), POSIX style."""
        return self.path.relative_to(base).as_posix()

    @property
    def runtime_dependencies(self) -> tuple[str, ...]:
        return tuple(dep.name for dep in self.dependencies if dep.kind == "runtime")

    @property
    def dev_dependencies(self) -> tuple[str, ...]:
        return tuple(dep.name for dep in self.dependencies if dep.kind == "dev")


@dataclass(frozen=True)
class Workspace:
    """The monorepo: its root, settings and members (sorted by path)."""

    root: Path
    config: Config
    packages: tuple[Package, ...]

    @cached_property
    def by_name(self) -> dict[str, Package]:
        return {package.name: package for package in self.packages}

    @cached_property
    def graph(self) -> DependencyGraph:
        from poetflow.graph import DependencyGraph

        return DependencyGraph.from_packages(self.packages)

    def get(self, name: str) -> Package:
        """Return the member called ``name`` (any spelling PEP 503 accepts)."""
        package = self.by_name.get(canonical_name(name))
        if package is None:
            raise UnknownPackageError(_unknown_message(name, self.by_name), hint=_known_hint(self))
        return package


def _unknown_message(name: str, known: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(canonical_name(name), list(known), n=1, cutoff=0.6)
    message = f"No package named {name!r} in this workspace"
    if close:
        return f"{message}; did you mean {close[0]!r}?"
    return f"{message}."


def _known_hint(workspace: Workspace) -> str:
    if not workspace.packages:
        return "This workspace has no packages; check [tool.poetflow] packages."
    return "Run `poetflow discover` to list the packages."


def _has_poetflow_table(pyproject: Path) -> bool:
    try:
        text = pyproject.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    # A cheap textual check first: most pyproject.toml files up the tree are not ours.
    if "tool.poetflow" not in text:
        return False
    tool = read_toml(pyproject).get("tool", {})
    return isinstance(tool, dict) and "poetflow" in tool


def find_root(start: Path, explicit: Path | None = None) -> Path:
    """Locate the monorepo root.

    ``explicit`` (``--root``) wins; else the first directory upwards whose pyproject.toml
    has ``[tool.poetflow]``; else the git top level.
    """
    if explicit is not None:
        root = explicit.expanduser()
        if not root.is_dir():
            raise WorkspaceNotFoundError(
                f"The root {explicit} is not a directory.", hint="Pass --root with a folder."
            )
        return root.resolve()
    start = start.resolve()
    candidates = [start, *start.parents]
    for directory in candidates:
        if _has_poetflow_table(directory / "pyproject.toml"):
            return directory
    for directory in candidates:
        if (directory / ".git").exists():
            return directory
    raise WorkspaceNotFoundError(
        f"No monorepo found from {start}: no pyproject.toml with [tool.poetflow] "
        "and no git repository above it.",
        hint="Run PoetFlow inside your monorepo or pass --root PATH.",
    )


def _load_config(root: Path) -> Config:
    pyproject = root / "pyproject.toml"
    if not pyproject.is_file():
        return Config()
    data = read_toml(pyproject)
    table = data.get("tool", {}).get("poetflow", {}) if isinstance(data.get("tool"), dict) else {}
    return parse_config(table, pyproject)


def _is_ignored(root: Path, relative: Path) -> bool:
    """Hidden folders (.git, .venv), caches, virtualenvs, and build output inside a package."""
    folder = root
    for part in relative.parts:
        if part.startswith(".") or part in _IGNORED_DIRS:
            return True
        if part in _OUTPUT_DIRS and (folder / "pyproject.toml").is_file():
            return True
        folder = folder / part
        if (folder / "pyvenv.cfg").is_file():
            return True
    return False


def _readable_prefix(root: Path, pattern: str) -> None:
    """Refuse a glob whose fixed leading folders exist but cannot be listed: ``Path.glob``
    skips such a folder silently, and "0 packages" would hide the cause."""
    fixed: list[str] = []
    for part in pattern.split("/"):
        if any(char in part for char in "*?["):
            break
        fixed.append(part)
    folder = root.joinpath(*fixed)
    if folder.is_dir():
        try:
            with os.scandir(folder):
                pass
        except OSError as exc:
            raise _unreadable(folder, exc) from None


def _unreadable(path: Path, exc: OSError) -> MetadataError:
    return MetadataError(
        f"Cannot read {path}: {exc.strerror or exc}.",
        hint="Give PoetFlow read access to it, or exclude it in [tool.poetflow].",
    )


def _glob_dirs(root: Path, patterns: Iterable[str], skip: Iterable[str] = ()) -> set[Path]:
    """The folders ``patterns`` match, minus those matching ``skip`` (never looked into,
    so an unreadable folder can be excluded); a folder that cannot be read is an error."""
    skipped = [pattern.rstrip("/") for pattern in skip]
    found: set[Path] = set()
    for raw_pattern in patterns:
        pattern = raw_pattern.rstrip("/") or "."
        if pattern != ".":
            _readable_prefix(root, pattern)
        matches = [root] if pattern == "." else root.glob(pattern)
        for match in matches:
            relative = match.relative_to(root)
            if any(fnmatch.fnmatchcase(relative.as_posix(), other) for other in skipped):
                continue
            try:
                if match.is_dir() and not _is_ignored(root, relative):
                    found.add(match)
            except OSError as exc:  # a folder that cannot be searched
                raise _unreadable(match, exc) from None
    return found


def _member_dirs(root: Path, config: Config) -> list[Path]:
    # Excluded folders as globs match them (``packages/legacy/**``), never looked into.
    excluded: set[Path] = set()
    for pattern in config.exclude:
        stripped = pattern.rstrip("/") or "."
        excluded.update([root] if stripped == "." else root.glob(stripped))
    members = []
    for directory in _glob_dirs(root, config.packages, skip=config.exclude) - excluded:
        relative = directory.relative_to(root).as_posix()
        try:
            has_pyproject = (directory / "pyproject.toml").is_file()
        except OSError as exc:
            raise _unreadable(directory, exc) from None
        if has_pyproject:
            members.append(directory)
        else:
            logger.debug("skipping %s: no pyproject.toml", relative)
    return sorted(members, key=lambda path: path.relative_to(root).as_posix())


def _named_explicitly(relative: str, patterns: Iterable[str]) -> bool:
    """A glob without wildcards that is exactly this folder."""
    return any(
        pattern.rstrip("/") == relative and not any(char in pattern for char in "*?[")
        for pattern in patterns
    )


def _enclosing(relative: str, folders: Collection[str]) -> str | None:
    """The folder of ``folders`` that holds the POSIX path ``relative``, if any (string
    slicing: discovery runs this for every member)."""
    cut = relative.rfind("/")
    while cut > 0:
        if relative[:cut] in folders:
            return relative[:cut]
        cut = relative.rfind("/", 0, cut)
    return None


def _inside(path: str, folder: str) -> bool:
    """Both normalised (os.path.normpath): a string test, as fast as discovery needs."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _resolve_dependencies(
    root: Path,
    package_dir: Path,
    declared: Iterable[Any],
    member_dirs: Mapping[str, str],
    member_names: Mapping[str, str],
    self_name: str,
) -> tuple[InternalDependency, ...]:
    """The edges to other members; every path dependency must point inside the repository
    at a member, under that member's name. A path to the package itself is kept: it is a
    cycle of one, refused by every command that needs an order."""
    edges: dict[str, dict[str, Any]] = {}
    pyproject = package_dir / "pyproject.toml"
    top = os.path.normpath(root)
    for dep in declared:
        target: str | None = None
        if dep.path is not None:
            where = f"{pyproject}: dependency {dep.name!r} in [{dep.declared_in}]"
            resolved = os.path.normpath(os.path.join(package_dir, dep.path))
            if not _inside(resolved, top):
                raise MetadataError(
                    f"{where} points at {dep.path!r}, outside the monorepo {root}.",
                    hint="A path dependency must point at a member package of this monorepo.",
                )
            if not os.path.isdir(resolved):
                raise MissingPathDependencyError(
                    f"{where} points at {dep.path!r}, which does not exist.",
                    hint="Fix the path or remove the dependency.",
                )
            target = member_dirs.get(resolved)
            if target is None:
                raise MetadataError(
                    f"{where} points at {dep.path!r}, which is not a member package.",
                    hint="Fix the path, or add the folder to [tool.poetflow] packages.",
                )
            if target != dep.canonical:
                raise MetadataError(
                    f"{where} has the path {dep.path!r}, which is the member {target!r}, "
                    "not this dependency.",
                    hint=f"Name the dependency {target!r} or fix its path.",
                )
        else:
            target = member_names.get(dep.canonical)
            # By name alone, a package naming itself is an extra pulling in its other
            # extras (all = ["pkg[a,b]"]), not a dependency.
            if target is None or target == self_name:
                continue
        edge = edges.setdefault(
            target,
            {
                "kind": "dev",
                "groups": [],
                "extras": [],
                "path": None,
                "constraint": None,
                "declared_in": [],
            },
        )
        if dep.kind == "runtime":
            edge["kind"] = "runtime"
            if dep.constraint and edge["constraint"] is None:
                edge["constraint"] = dep.constraint
        if dep.group not in edge["groups"]:
            edge["groups"].append(dep.group)
        if dep.extra and dep.extra not in edge["extras"]:
            edge["extras"].append(dep.extra)
        if dep.path and edge["path"] is None:
            edge["path"] = dep.path
        if dep.declared_in not in edge["declared_in"]:
            edge["declared_in"].append(dep.declared_in)
    return tuple(
        InternalDependency(
            name=name,
            kind=edge["kind"],
            groups=tuple(edge["groups"]),
            extras=tuple(edge["extras"]),
            path=edge["path"],
            constraint=edge["constraint"],
            declared_in=tuple(edge["declared_in"]),
        )
        for name, edge in sorted(edges.items())
    )


def load_workspace(root: Path) -> Workspace:
    """Read the configuration and every member of the monorepo at ``root``.

    Every member's metadata is validated here (names, versions, requirements, path
    dependencies), so a bad pyproject.toml stops every command before anything runs.
    A package inside another member's folder (a project template, a test fixture) is not
    a member unless a glob names its folder exactly.
    """
    config = _load_config(root)
    found = []
    accepted: set[str] = set()
    for directory in _member_dirs(root, config):
        relative = directory.relative_to(root).as_posix()
        # Folders come sorted, so a member's folder is met before anything inside it.
        outer = _enclosing(relative, accepted)
        if outer is not None and not _named_explicitly(relative, config.packages):
            logger.debug("skipping %s: inside the member folder %s", relative, outer)
            continue
        pyproject = directory / "pyproject.toml"
        data = read_toml(pyproject)
        metadata = read_project_metadata(data, pyproject)
        if metadata is None:
            logger.debug("skipping %s: not a package", pyproject.relative_to(root))
            continue
        found.append((directory, data, metadata))
        if directory != root:
            accepted.add(relative)

    member_names: dict[str, str] = {}
    member_paths: dict[str, Path] = {}
    member_dirs: dict[str, str] = {}
    for directory, _data, metadata in found:
        name = canonical_name(metadata.name)
        if name in member_names:
            raise DuplicatePackageError(
                f"Two packages are named {name!r}: {member_paths[name].relative_to(root)} "
                f"and {directory.relative_to(root)}.",
                hint="Rename one of them or exclude it in [tool.poetflow].",
            )
        member_names[name] = name
        member_paths[name] = directory
        member_dirs[os.path.normpath(directory)] = name

    packages = []
    for directory, data, metadata in found:
        name = canonical_name(metadata.name)
        packages.append(
            Package(
                name=name,
                display_name=metadata.name,
                version=metadata.version,
                dynamic_version=metadata.dynamic_version,
                style=metadata.style,
                path=directory,
                relpath=directory.relative_to(root).as_posix(),
                build_backend=metadata.build_backend,
                dependencies=_resolve_dependencies(
                    root, directory, metadata.dependencies, member_dirs, member_names, name
                ),
                config=config.own
                if directory == root
                else parse_package_config(metadata.settings, directory / "pyproject.toml", config),
                data=data,
            )
        )
    # Refused at load, before any command plans anything: tags the members' names would
    # make invalid, release files that resolve outside the repository.
    check_tag_format(config.tag_format, config.versioning, config.where, [p.name for p in packages])
    check_inside_root(root, packages, [config.changelog.root_changelog])
    return Workspace(root=root, config=config, packages=tuple(packages))
