"""Reading one package's pyproject.toml: name, version, style and declared dependencies.

Both metadata styles are first-class: legacy ``[tool.poetry]`` and Poetry 2's PEP 621
``[project]`` table (with ``[tool.poetry.dependencies]`` supplying path sources).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from poetflow.errors import MetadataError

__all__ = [
    "DeclaredDependency",
    "DependencyKind",
    "MetadataStyle",
    "ProjectMetadata",
    "canonical_name",
    "read_project_metadata",
]

MetadataStyle = Literal["poetry", "pep621"]
DependencyKind = Literal["runtime", "dev"]

_CANONICAL_RE = re.compile(r"[-_.]+")
# The name at the start of a PEP 508 string; parsing the whole requirement with
# `packaging` is slower and unnecessary to know which member it names.
_REQUIREMENT_NAME_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def canonical_name(name: str) -> str:
    """PEP 503 normalisation: ``jwt_vc_json`` and ``JWT.vc-json`` both become ``jwt-vc-json``."""
    return _CANONICAL_RE.sub("-", name).lower()


@dataclass(frozen=True)
class DeclaredDependency:
    """One dependency as written in a pyproject.toml.

    ``group`` is ``main``, an extra's name (``extra`` set) or a dependency group;
    ``declared_in`` is the TOML table it came from, for error messages.
    """

    name: str
    kind: DependencyKind
    group: str
    declared_in: str
    path: str | None = None
    constraint: str | None = None
    extra: str | None = None
    develop: bool = False

    @property
    def canonical(self) -> str:
        return canonical_name(self.name)


@dataclass(frozen=True)
class ProjectMetadata:
    """What PoetFlow needs to know about one package, straight from its pyproject.toml."""

    name: str
    version: str | None
    dynamic_version: bool
    style: MetadataStyle
    build_backend: str | None
    dependencies: tuple[DeclaredDependency, ...]
    settings: Any  # the raw [tool.poetflow] table, validated by the workspace


def _table(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _poetry_entries(
    table: Mapping[str, Any],
) -> Iterator[tuple[str, str | None, str | None, bool, bool, str | None]]:
    """Yield (name, path, constraint, develop, optional, markers) per Poetry dependency entry.

    A name may map to a string, a table, or a list of tables (multiple constraints).
    """
    for name, spec in table.items():
        if canonical_name(name) == "python":
            continue
        specs = spec if isinstance(spec, list) else [spec]
        for item in specs:
            if isinstance(item, str):
                yield name, None, item, False, False, None
            elif isinstance(item, Mapping):
                path = item.get("path")
                version = item.get("version")
                yield (
                    name,
                    path if isinstance(path, str) else None,
                    version if isinstance(version, str) else None,
                    bool(item.get("develop", False)),
                    bool(item.get("optional", False)),
                    item.get("markers") if isinstance(item.get("markers"), str) else None,
                )


def _requirement_name(requirement: str, pyproject: Path, where: str) -> tuple[str, str]:
    match = _REQUIREMENT_NAME_RE.match(requirement)
    if not match:
        raise MetadataError(
            f"{pyproject}: {where} has an invalid requirement {requirement!r}.",
            hint="Write it as a PEP 508 requirement such as 'name>=1.0'.",
        )
    rest = requirement[match.end() :].strip()
    return match.group(1), rest


def _extras_by_dependency(poetry: Mapping[str, Any]) -> dict[str, list[str]]:
    extras: dict[str, list[str]] = {}
    for extra, names in _table(poetry.get("extras")).items():
        if isinstance(names, list):
            for name in names:
                if isinstance(name, str):
                    extras.setdefault(canonical_name(name), []).append(extra)
    return extras


def _optional_names(project: Mapping[str, Any]) -> set[str]:
    names = set()
    for requirements in _table(project.get("optional-dependencies")).values():
        for requirement in requirements if isinstance(requirements, list) else []:
            match = _REQUIREMENT_NAME_RE.match(str(requirement))
            if match:
                names.add(canonical_name(match.group(1)))
    return names


def _dependencies(data: Mapping[str, Any], pyproject: Path) -> tuple[DeclaredDependency, ...]:
    project = _table(data.get("project"))
    poetry = _table(_table(data.get("tool")).get("poetry"))
    poetry_main = _table(poetry.get("dependencies"))
    found: list[DeclaredDependency] = []

    # Poetry 2: when [project].dependencies is given, [tool.poetry.dependencies] only adds
    # sources (path, develop) to those names; otherwise it holds the main dependencies.
    pep621_deps = "dependencies" in project and "dependencies" not in project.get("dynamic", [])
    poetry_paths: dict[str, tuple[str | None, bool]] = {}
    for name, path, _constraint, develop, _opt, _markers in _poetry_entries(poetry_main):
        if path is not None:
            poetry_paths[canonical_name(name)] = (path, develop)

    if pep621_deps:
        requirements = project.get("dependencies", [])
        if not isinstance(requirements, list):
            raise MetadataError(f"{pyproject}: [project].dependencies must be a list of strings.")
        for requirement in requirements:
            name, rest = _requirement_name(str(requirement), pyproject, "[project].dependencies")
            path, develop = poetry_paths.get(canonical_name(name), (None, False))
            found.append(
                DeclaredDependency(
                    name,
                    "runtime",
                    "main",
                    "project.dependencies",
                    path,
                    rest or None,
                    develop=develop,
                )
            )
        # Path entries in [tool.poetry.dependencies] that [project] does not list are not
        # runtime requirements for Poetry, but they still must point somewhere real.
        listed = {dep.canonical for dep in found} | _optional_names(project)
        for name, (path, develop) in poetry_paths.items():
            if name not in listed:
                found.append(
                    DeclaredDependency(
                        name, "dev", "main", "tool.poetry.dependencies", path, develop=develop
                    )
                )
    else:
        extras = _extras_by_dependency(poetry)
        for name, path, constraint, develop, optional, _markers in _poetry_entries(poetry_main):
            extra_names = extras.get(canonical_name(name), []) if optional else []
            if optional and extra_names:
                for extra in extra_names:
                    found.append(
                        DeclaredDependency(
                            name,
                            "runtime",
                            extra,
                            "tool.poetry.dependencies",
                            path,
                            constraint,
                            extra,
                            develop,
                        )
                    )
            else:
                found.append(
                    DeclaredDependency(
                        name,
                        "runtime",
                        "main",
                        "tool.poetry.dependencies",
                        path,
                        constraint,
                        develop=develop,
                    )
                )

    for extra, requirements in _table(project.get("optional-dependencies")).items():
        for requirement in requirements if isinstance(requirements, list) else []:
            where = f"project.optional-dependencies.{extra}"
            name, rest = _requirement_name(str(requirement), pyproject, where)
            path, develop = poetry_paths.get(canonical_name(name), (None, False))
            found.append(
                DeclaredDependency(
                    name, "runtime", extra, where, path, rest or None, extra, develop
                )
            )
    for name, path, constraint, develop, _opt, _markers in _poetry_entries(
        _table(poetry.get("dev-dependencies"))
    ):
        found.append(
            DeclaredDependency(
                name,
                "dev",
                "dev",
                "tool.poetry.dev-dependencies",
                path,
                constraint,
                develop=develop,
            )
        )
    for group, group_table in _table(poetry.get("group")).items():
        where = f"tool.poetry.group.{group}.dependencies"
        for name, path, constraint, develop, _opt, _markers in _poetry_entries(
            _table(_table(group_table).get("dependencies"))
        ):
            found.append(
                DeclaredDependency(name, "dev", group, where, path, constraint, develop=develop)
            )
    return tuple(found)


def _is_dynamic_version(data: Mapping[str, Any], version: str | None) -> bool:
    project = _table(data.get("project"))
    dynamic = project.get("dynamic", [])
    if isinstance(dynamic, list) and "version" in dynamic and "version" not in project:
        return True
    tool = _table(data.get("tool"))
    pdv = _table(tool.get("poetry-dynamic-versioning"))
    if pdv.get("enable") is True:
        return True
    plugin_requires = _table(_table(tool.get("poetry")).get("requires-plugins"))
    return version in (None, "0.0.0") and any(
        canonical_name(name) == "poetry-dynamic-versioning" for name in plugin_requires
    )


def read_project_metadata(data: Mapping[str, Any], pyproject: Path) -> ProjectMetadata | None:
    """Return the package described by ``data``, or None when the file is not a package.

    Not a package: no name, ``package-mode = false``, or only tool settings.
    """
    project = _table(data.get("project"))
    poetry = _table(_table(data.get("tool")).get("poetry"))
    if poetry.get("package-mode") is False:
        return None
    name = project.get("name") or poetry.get("name")
    if not name:
        return None
    if not isinstance(name, str):
        raise MetadataError(f"{pyproject}: the package name must be a string, not {name!r}.")
    style: MetadataStyle = "pep621" if project.get("name") else "poetry"
    raw_version = project.get("version", poetry.get("version"))
    if raw_version is not None and not isinstance(raw_version, str):
        raise MetadataError(
            f"{pyproject}: the version must be a string, not {raw_version!r}.",
            hint='Quote it, e.g. version = "1.2.0".',
        )
    build_system = _table(data.get("build-system"))
    backend = build_system.get("build-backend")
    return ProjectMetadata(
        name=name,
        version=raw_version,
        dynamic_version=_is_dynamic_version(data, raw_version),
        style=style,
        build_backend=backend if isinstance(backend, str) else None,
        dependencies=_dependencies(data, pyproject),
        settings=_table(data.get("tool")).get("poetflow", {}),
    )
