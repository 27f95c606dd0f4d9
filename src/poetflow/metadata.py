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
from poetflow.standards import (
    constraint_problem,
    name_problem,
    requirement_problem,
    version_problem,
)
from poetflow.tables import shown

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


def _invalid(pyproject: Path, key: str, value: Any, problem: str, hint: str) -> MetadataError:
    """The one shape of a metadata error: the file, the key, the value, what is valid."""
    return MetadataError(f"{pyproject}: {key} = {shown(value)} is invalid: {problem}.", hint=hint)


def _sub_table(
    parent: Mapping[str, Any], key: str, where: str, pyproject: Path
) -> Mapping[str, Any]:
    """``parent[key]`` when it is a table (empty when absent); any other value is refused,
    since ignoring it would drop every dependency it was meant to declare."""
    value = parent.get(key, {})
    if not isinstance(value, Mapping):
        raise _invalid(
            pyproject,
            f"{where}.{key}",
            value,
            "it must be a table",
            f"Write it as [{where}.{key}].",
        )
    return value


def _string_list(parent: Mapping[str, Any], key: str, where: str, pyproject: Path) -> list[str]:
    value = parent.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _invalid(
            pyproject,
            f"{where}.{key}",
            value,
            "it must be a list of strings",
            f'Write it like {key} = ["requests>=2.31"].',
        )
    return value


_CONSTRAINT_HINT = 'Write a Poetry constraint such as "^1.2", ">=1.2,<2" or "*".'


def _checked_constraint(value: Any, key: str, pyproject: Path) -> str:
    if not isinstance(value, str):
        raise _invalid(pyproject, key, value, "it must be a string", _CONSTRAINT_HINT)
    problem = constraint_problem(value)
    if problem:
        raise _invalid(pyproject, key, value, problem, _CONSTRAINT_HINT)
    return value


def _poetry_entries(
    table: Mapping[str, Any], where: str, pyproject: Path
) -> Iterator[tuple[str, str | None, str | None, bool, bool, str | None]]:
    """Yield (name, path, constraint, develop, optional, markers) per Poetry dependency entry.

    A name may map to a string, a table, or a list of tables (multiple constraints); a
    path must be a string and a version a constraint Poetry parses.
    """
    for name, spec in table.items():
        if canonical_name(name) == "python":
            continue
        key = f"{where}.{name}"
        problem = name_problem(name)
        if problem:
            raise MetadataError(
                f"{pyproject}: {where} has a dependency named {shown(name)}, which is invalid: "
                f"{problem}.",
                hint="Name it as its index does, e.g. requests.",
            )
        specs = spec if isinstance(spec, list) else [spec]
        for item in specs:
            # Several constraints (a list) are tables, one per Python or platform.
            if isinstance(item, str) and not isinstance(spec, list):
                yield name, None, _checked_constraint(item, key, pyproject), False, False, None
            elif isinstance(item, Mapping):
                path = item.get("path")
                if path is not None and not isinstance(path, str):
                    raise _invalid(
                        pyproject,
                        f"{key}.path",
                        path,
                        "a path must be a string",
                        'Write the folder relative to this file, e.g. {path = "../core"}.',
                    )
                version = item.get("version")
                if version is not None:
                    _checked_constraint(version, f"{key}.version", pyproject)
                yield (
                    name,
                    path,
                    version,
                    bool(item.get("develop", False)),
                    bool(item.get("optional", False)),
                    item.get("markers") if isinstance(item.get("markers"), str) else None,
                )
            elif isinstance(spec, list):
                raise _invalid(
                    pyproject,
                    key,
                    item,
                    "each of several constraints is a table",
                    f'Write it like {name} = [{{version = "^1.2", python = "<3.12"}}, ...].',
                )
            else:
                raise _invalid(
                    pyproject,
                    key,
                    item,
                    "a dependency is a constraint string, a table or a list of tables",
                    f'Write it like {name} = "^1.2" or {name} = {{path = "../{name}"}}.',
                )


def _requirement_name(requirement: Any, pyproject: Path, where: str) -> tuple[str, str]:
    hint = "Write it as a PEP 508 requirement such as 'name>=1.0'."
    if not isinstance(requirement, str):
        raise _invalid(pyproject, where, requirement, "a requirement must be a string", hint)
    problem = requirement_problem(requirement)
    match = _REQUIREMENT_NAME_RE.match(requirement)
    if problem or not match:
        raise _invalid(pyproject, where, requirement, problem or "it names no package", hint)
    rest = requirement[match.end() :].strip()
    return match.group(1), rest


def _extras_by_dependency(poetry: Mapping[str, Any], pyproject: Path) -> dict[str, list[str]]:
    extras: dict[str, list[str]] = {}
    table = _sub_table(poetry, "extras", "tool.poetry", pyproject)
    for extra in table:
        for name in _string_list(table, extra, "tool.poetry.extras", pyproject):
            extras.setdefault(canonical_name(name), []).append(extra)
    return extras


def _optional_names(optional: Mapping[str, Any]) -> set[str]:
    names = set()
    for requirements in optional.values():
        for requirement in requirements:
            match = _REQUIREMENT_NAME_RE.match(requirement)
            if match:
                names.add(canonical_name(match.group(1)))
    return names


def _dependencies(data: Mapping[str, Any], pyproject: Path) -> tuple[DeclaredDependency, ...]:
    project = _table(data.get("project"))
    poetry = _table(_table(data.get("tool")).get("poetry"))
    poetry_main = _sub_table(poetry, "dependencies", "tool.poetry", pyproject)
    optional = _sub_table(project, "optional-dependencies", "project", pyproject)
    for extra in optional:
        _string_list(optional, extra, "project.optional-dependencies", pyproject)
    found: list[DeclaredDependency] = []

    # Poetry 2: when [project].dependencies is given, [tool.poetry.dependencies] only adds
    # sources (path, develop) to those names; otherwise it holds the main dependencies.
    pep621_deps = "dependencies" in project and "dependencies" not in project.get("dynamic", [])
    main_entries = list(_poetry_entries(poetry_main, "tool.poetry.dependencies", pyproject))
    poetry_paths: dict[str, tuple[str | None, bool]] = {}
    for name, path, _constraint, develop, _opt, _markers in main_entries:
        if path is not None:
            poetry_paths[canonical_name(name)] = (path, develop)

    if pep621_deps:
        requirements = project.get("dependencies", [])
        if not isinstance(requirements, list):
            raise _invalid(
                pyproject,
                "project.dependencies",
                requirements,
                "it must be a list of strings",
                'Write it like dependencies = ["requests>=2.31"].',
            )
        for requirement in requirements:
            name, rest = _requirement_name(requirement, pyproject, "project.dependencies")
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
        listed = {dep.canonical for dep in found} | _optional_names(optional)
        for name, (path, develop) in poetry_paths.items():
            if name not in listed:
                found.append(
                    DeclaredDependency(
                        name, "dev", "main", "tool.poetry.dependencies", path, develop=develop
                    )
                )
    else:
        extras = _extras_by_dependency(poetry, pyproject)
        for name, path, constraint, develop, is_optional, _markers in main_entries:
            extra_names = extras.get(canonical_name(name), []) if is_optional else []
            if is_optional and extra_names:
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

    for extra, requirements in optional.items():
        for requirement in requirements:
            where = f"project.optional-dependencies.{extra}"
            name, rest = _requirement_name(requirement, pyproject, where)
            path, develop = poetry_paths.get(canonical_name(name), (None, False))
            found.append(
                DeclaredDependency(
                    name, "runtime", extra, where, path, rest or None, extra, develop
                )
            )
    dev_where = "tool.poetry.dev-dependencies"
    for name, path, constraint, develop, _opt, _markers in _poetry_entries(
        _sub_table(poetry, "dev-dependencies", "tool.poetry", pyproject), dev_where, pyproject
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
    groups = _sub_table(poetry, "group", "tool.poetry", pyproject)
    for group in groups:
        group_table = _sub_table(groups, group, "tool.poetry.group", pyproject)
        where = f"tool.poetry.group.{group}.dependencies"
        for name, path, constraint, develop, _opt, _markers in _poetry_entries(
            _sub_table(group_table, "dependencies", f"tool.poetry.group.{group}", pyproject),
            where,
            pyproject,
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
    style: MetadataStyle = "pep621" if "name" in project else "poetry"
    table, where = (project, "project") if style == "pep621" else (poetry, "tool.poetry")
    if "name" not in table:
        return None
    name = table["name"]
    name_hint = 'Write a distribution name such as name = "acme-core".'
    if not isinstance(name, str):
        raise _invalid(pyproject, f"{where}.name", name, "a name must be a string", name_hint)
    problem = name_problem(name)
    if problem:
        raise _invalid(pyproject, f"{where}.name", name, problem, name_hint)
    version_key = "project.version" if "version" in project else "tool.poetry.version"
    raw_version = project.get("version", poetry.get("version"))
    dynamic = _is_dynamic_version(data, raw_version)
    version_hint = 'Write a version such as version = "1.2.0", or declare it dynamic.'
    if raw_version is None and not dynamic:
        raise MetadataError(
            f"{pyproject}: {where} has no version and does not declare it dynamic.",
            hint=version_hint,
        )
    if raw_version is not None:
        if not isinstance(raw_version, str):
            raise _invalid(
                pyproject, version_key, raw_version, "a version must be a string", version_hint
            )
        problem = version_problem(raw_version)
        if problem:
            raise _invalid(pyproject, version_key, raw_version, problem, version_hint)
    build_system = _table(data.get("build-system"))
    backend = build_system.get("build-backend")
    return ProjectMetadata(
        name=name,
        version=raw_version,
        dynamic_version=dynamic,
        style=style,
        build_backend=backend if isinstance(backend, str) else None,
        dependencies=_dependencies(data, pyproject),
        settings=_table(data.get("tool")).get("poetflow", {}),
    )
