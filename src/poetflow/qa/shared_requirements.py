"""The third-party requirements of a shared environment, and which of them cannot coexist.

A resolver's "no solution" explains itself in terms of requirements, not of the packages
that declared them; in a monorepo the first question is which packages disagree. So the
declared requirements of every member in the environment are compared by name first,
each with the package and the group that declares it: two version ranges with nothing in
common are a conflict named here, before uv runs. What only shows up deeper in the
dependency tree is left to uv's own explanation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from poetflow.metadata import canonical_name
from poetflow.uv import Index
from poetflow.workspace import Package, Workspace

if TYPE_CHECKING:
    from poetry.core.packages.dependency import Dependency

__all__ = ["SharedRequirements"]

_PYPI = "https://pypi.org/simple/"


@dataclass(frozen=True)
class _Declared:
    package: str
    group: str
    dependency: Dependency


def _describe(declared: _Declared) -> str:
    group = "" if declared.group == "main" else f" (group {declared.group})"
    return f"{declared.package}{group} requires {declared.dependency.to_pep_508()}"


@dataclass(frozen=True)
class SharedRequirements:
    """PEP 508 lines for uv, the indexes they come from, and what each member declared."""

    lines: tuple[str, ...]
    indexes: tuple[Index, ...]
    declared: tuple[_Declared, ...]

    @classmethod
    def collect(
        cls, workspace: Workspace, selected: Sequence[Package], members: Sequence[Package]
    ) -> SharedRequirements:
        from poetry.core.factory import Factory

        from poetflow.lockfile.selection import marker_environment

        environment = marker_environment()
        internal = {package.name for package in workspace.packages}
        chosen = {package.name for package in selected}
        declared: list[_Declared] = []
        sources: dict[str, tuple[str, str]] = {}
        for member in members:
            poetry = Factory().create_poetry(member.path)
            project = poetry.package
            groups = ["main"]
            if member.name in chosen:  # a dependency's own dev tools are not needed
                groups = sorted(project.dependency_group_names())
            for group in groups:
                if not project.has_dependency_group(group):
                    continue
                for dependency in project.dependency_group(group).dependencies:
                    if canonical_name(dependency.name) in internal:
                        continue
                    if dependency.is_optional() or not dependency.marker.validate(environment):
                        continue
                    declared.append(_Declared(member.name, group, dependency))
            for source in _poetry_sources(poetry):
                sources.setdefault(source[0], (source[1], source[2]))
        lines = tuple(dict.fromkeys(d.dependency.to_pep_508() for d in declared))
        return cls(lines, _indexes(sources), tuple(declared))

    def conflict(self) -> str | None:
        """The first pair of members whose version ranges for one name do not meet."""
        by_name: dict[str, list[_Declared]] = {}
        for item in self.declared:
            dependency = item.dependency
            if dependency.is_vcs() or dependency.is_file() or dependency.is_directory():
                continue
            if dependency.is_url():
                continue
            by_name.setdefault(canonical_name(dependency.name), []).append(item)
        for items in by_name.values():
            for index, first in enumerate(items):
                for second in items[index + 1 :]:
                    if first.package == second.package:
                        continue
                    both = first.dependency.constraint.intersect(second.dependency.constraint)
                    if both.is_empty():
                        return f"{_describe(first)}, but {_describe(second)}"
        return None


def _poetry_sources(poetry: Any) -> list[tuple[str, str, str]]:
    """(name, url, priority) of a project's ``[[tool.poetry.source]]`` entries."""
    found = []
    for source in poetry.local_config.get("source", []) or []:
        url = source.get("url")
        if url:
            found.append((str(source["name"]), str(url), str(source.get("priority", "primary"))))
    return found


def _indexes(sources: dict[str, tuple[str, str]]) -> tuple[Index, ...]:
    """Primary sources first (the first one the default index); PyPI unless a primary
    source replaces it, as in Poetry 2; supplemental and explicit sources after."""
    primary = [(n, u) for n, (u, p) in sources.items() if p in ("primary", "default")]
    others = [(n, u) for n, (u, p) in sources.items() if p not in ("primary", "default")]
    ordered = primary or [("pypi", _PYPI)]
    if primary and any(name.lower() == "pypi" for name, _url in others):
        others = [(n, u) for n, u in others if n.lower() != "pypi"] + [("pypi", _PYPI)]
    from poetflow.qa.lock_install import poetry_index

    return tuple(poetry_index(name, url) for name, url in [*ordered, *others])
