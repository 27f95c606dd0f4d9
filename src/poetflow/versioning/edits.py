"""The file edits a version plan makes: versions, dependents' constraints, version files."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poetflow.errors import ConfigError
from poetflow.metadata import canonical_name
from poetflow.versioning.constraints import (
    admits,
    names_prerelease,
    requirement_admits,
    updated_constraint,
)
from poetflow.versioning.plan import PackageVersion
from poetflow.versioning.settings import DependentsConstraint, version_files
from poetflow.versioning.versions import is_prerelease
from poetflow.workspace import Package

__all__ = [
    "ConstraintChange",
    "FileEdit",
    "PyprojectEdit",
    "constraint_changes",
    "package_edits",
    "pyproject_edit",
    "runtime_declarations",
]

_REQUIREMENT_RE = re.compile(
    r"^(?P<head>\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*)"
    r"(?P<spec>[^;@]*?)(?P<tail>\s*(?:;.*)?)$"
)


@dataclass(frozen=True)
class FileEdit:
    """The new full text of one file; ``old`` is None when the file does not exist yet."""

    path: Path
    old: str | None
    new: str

    @property
    def changes(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True)
class ConstraintChange:
    """One declaration of a member that a release rewrites.

    ``old``/``new`` are the whole PEP 508 requirement when ``pep508`` (``[project]``
    tables), else the Poetry version constraint; ``runtime`` declarations (main
    dependencies, extras) are the ones a poetry.lock records for a member's own entry.
    """

    dependency: str
    old: str
    new: str
    pep508: bool
    runtime: bool


@dataclass(frozen=True)
class PyprojectEdit:
    """A package's new pyproject.toml text and the declarations it moved."""

    text: str
    changes: tuple[ConstraintChange, ...]


@dataclass
class _Declaration:
    dependency: str
    text: str
    pep508: bool
    runtime: bool
    replace: Callable[[str], None]


def _requirement_list(items: Any, runtime: bool) -> Iterator[_Declaration]:
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        match = _REQUIREMENT_RE.match(str(item)) if isinstance(item, str) else None
        if match is None:
            continue

        def replace(new: str, index: int = index) -> None:
            items[index] = new

        yield _Declaration(canonical_name(match.group("name")), str(item), True, runtime, replace)


def _poetry_table(table: Any, runtime: bool) -> Iterator[_Declaration]:
    if not isinstance(table, MutableMapping):
        return
    for name in list(table.keys()):
        specs = table[name]
        items = specs if isinstance(specs, list) else [specs]
        for position, spec in enumerate(items):
            if isinstance(spec, str):

                def replace(new: str, name: Any = name, position: int = position) -> None:
                    if isinstance(table[name], list):
                        table[name][position] = new
                    else:
                        table[name] = new

                yield _Declaration(canonical_name(str(name)), str(spec), False, runtime, replace)
            elif isinstance(spec, MutableMapping) and isinstance(spec.get("version"), str):

                def replace_in(new: str, spec: Any = spec) -> None:
                    spec["version"] = new

                version = str(spec["version"])
                yield _Declaration(canonical_name(str(name)), version, False, runtime, replace_in)


def _declarations(document: Mapping[str, Any]) -> Iterator[_Declaration]:
    """Every versioned declaration of a dependency, where Poetry and PEP 621 put them."""
    project = document.get("project")
    if isinstance(project, Mapping):
        yield from _requirement_list(project.get("dependencies"), True)
        optional = project.get("optional-dependencies")
        if isinstance(optional, Mapping):
            for requirements in optional.values():
                yield from _requirement_list(requirements, True)
    groups = document.get("dependency-groups")
    if isinstance(groups, Mapping):
        for requirements in groups.values():
            yield from _requirement_list(requirements, False)
    tool = document.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, Mapping) else None
    if isinstance(poetry, Mapping):
        yield from _poetry_table(poetry.get("dependencies"), True)
        yield from _poetry_table(poetry.get("dev-dependencies"), False)
        group_tables = poetry.get("group")
        if isinstance(group_tables, Mapping):
            for group in group_tables.values():
                if isinstance(group, Mapping):
                    yield from _poetry_table(group.get("dependencies"), False)


def runtime_declarations(document: Mapping[str, Any]) -> Iterator[_Declaration]:
    """The versioned runtime requirements a built package carries: ``[project]``'s when
    it lists dependencies, else ``[tool.poetry.dependencies]``'s."""
    project = document.get("project")
    if isinstance(project, Mapping) and "dependencies" in project:
        yield from _requirement_list(project.get("dependencies"), True)
        optional = project.get("optional-dependencies")
        if isinstance(optional, Mapping):
            for requirements in optional.values():
                yield from _requirement_list(requirements, True)
        return
    tool = document.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, Mapping) else None
    if isinstance(poetry, Mapping):
        yield from _poetry_table(poetry.get("dependencies"), True)


def _moved_requirement(requirement: str, version: str) -> str | None:
    match = _REQUIREMENT_RE.match(requirement)
    if match is None:
        return None
    spec = match.group("spec").strip()
    if not spec:
        return None
    moved = updated_constraint(spec, version)
    if moved is None:
        return None
    return f"{match.group('head').rstrip()}{moved}{match.group('tail')}"


def constraint_changes(
    document: Mapping[str, Any], versions: Mapping[str, str], mode: DependentsConstraint
) -> list[ConstraintChange]:
    """Rewrite, in ``document`` (a tomlkit document or plain data), the declarations on
    the members in ``versions`` that must move; return what moved.

    Under ``preserve`` a range that admits the new version stays as written.
    """
    changes = []
    for declaration in list(_declarations(document)):
        version = versions.get(declaration.dependency)
        if version is None:
            continue
        if mode == "preserve":
            check = requirement_admits if declaration.pep508 else admits
            admitted = check(declaration.text, version)
            if admitted is None:
                continue  # not a range PoetFlow can read: left alone
            if admitted and not (is_prerelease(version) and not names_prerelease(declaration.text)):
                continue  # admitted, and a pre-release only by a range naming one
        moved = (
            _moved_requirement(declaration.text, version)
            if declaration.pep508
            else updated_constraint(declaration.text, version)
        )
        if moved is None:
            continue
        declaration.replace(moved)
        changes.append(
            ConstraintChange(
                declaration.dependency,
                declaration.text,
                moved,
                declaration.pep508,
                declaration.runtime,
            )
        )
    return changes


def pyproject_edit(
    package: Package, entry: PackageVersion, mode: DependentsConstraint
) -> PyprojectEdit:
    """The package's pyproject.toml with its new version and moved constraints (tomlkit)."""
    import tomlkit

    from poetflow.tomlfile import load_document

    document = load_document(package.pyproject)
    if entry.changed and entry.next is not None:
        if package.style == "pep621":
            document["project"]["version"] = entry.next
        else:
            document["tool"]["poetry"]["version"] = entry.next
    versions = {update.dependency: update.new_version for update in entry.constraint_updates}
    changes = constraint_changes(document, versions, mode) if versions else []
    return PyprojectEdit(tomlkit.dumps(document), tuple(changes))


def _version_file_text(
    package: Package, relative: str, variable: str, version: str
) -> tuple[Path, str, str]:
    path = package.path / relative
    try:
        old = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"{package.pyproject}: version file {relative!r} cannot be read ({exc.strerror}).",
            hint="Fix tool.poetflow.version-files or create the file.",
        ) from exc
    pattern = re.compile(
        rf"^(?P<head>[ \t]*{re.escape(variable)}[ \t]*(?::[^=\n]+)?=[ \t]*)"
        r"(?P<quote>['\"])(?P<value>[^'\"\n]*)(?P=quote)",
        re.MULTILINE,
    )
    new, count = pattern.subn(lambda m: f"{m['head']}{m['quote']}{version}{m['quote']}", old)
    if count == 0 and package.version is not None and old.strip() == package.version:
        # A file holding nothing but the version (VERSION): the whole text is the version.
        return path, old, old.replace(package.version, version, 1)
    if count == 0:
        raise ConfigError(
            f'{path}: no {variable} = "..." assignment to update '
            f"(listed in tool.poetflow.version-files of {package.name}).",
            hint=f'Add a line {variable} = "{package.version}" or fix version-files.',
        )
    return path, old, new


def package_edits(
    package: Package, entry: PackageVersion, mode: DependentsConstraint = "preserve"
) -> tuple[list[FileEdit], tuple[ConstraintChange, ...]]:
    """Every file edit for ``package`` under ``entry`` (nothing is written here), and the
    declarations its pyproject.toml moves."""
    edits: list[FileEdit] = []
    if not entry.changed and not entry.constraint_updates:
        return edits, ()
    old = package.pyproject.read_text(encoding="utf-8")
    pyproject = pyproject_edit(package, entry, mode)
    edits.append(FileEdit(package.pyproject, old, pyproject.text))
    if entry.changed and entry.next is not None:
        for relative, variable in version_files(package):
            path, before, after = _version_file_text(package, relative, variable, entry.next)
            edits.append(FileEdit(path, before, after))
    return [edit for edit in edits if edit.changes], pyproject.changes
