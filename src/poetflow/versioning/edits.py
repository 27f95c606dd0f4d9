"""The file edits a version plan makes: versions, dependents' constraints, version files."""

from __future__ import annotations

import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poetflow.errors import ConfigError
from poetflow.metadata import canonical_name
from poetflow.versioning.constraints import updated_constraint
from poetflow.versioning.plan import PackageVersion
from poetflow.versioning.settings import version_files
from poetflow.workspace import Package

__all__ = ["FileEdit", "package_edits"]

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


def _rewrite_requirement(requirement: str, versions: Mapping[str, str]) -> str | None:
    match = _REQUIREMENT_RE.match(requirement)
    if match is None:
        return None
    version = versions.get(canonical_name(match.group("name")))
    if version is None:
        return None
    spec = match.group("spec").strip()
    if not spec:
        return None
    moved = updated_constraint(spec, version)
    if moved is None:
        return None
    return f"{match.group('head').rstrip()}{moved}{match.group('tail')}"


def _rewrite_requirement_list(items: Any, versions: Mapping[str, str]) -> None:
    if not isinstance(items, list):
        return
    for index, item in enumerate(items):
        if isinstance(item, str):
            moved = _rewrite_requirement(str(item), versions)
            if moved is not None:
                items[index] = moved


def _rewrite_poetry_table(table: Any, versions: Mapping[str, str]) -> None:
    if not isinstance(table, MutableMapping):
        return
    for name in list(table.keys()):
        version = versions.get(canonical_name(str(name)))
        if version is None:
            continue
        specs = table[name]
        items = specs if isinstance(specs, list) else [specs]
        for position, spec in enumerate(items):
            if isinstance(spec, str):
                moved = updated_constraint(str(spec), version)
                if moved is not None:
                    if isinstance(specs, list):
                        specs[position] = moved
                    else:
                        table[name] = moved
            elif isinstance(spec, MutableMapping) and isinstance(spec.get("version"), str):
                moved = updated_constraint(str(spec["version"]), version)
                if moved is not None:
                    spec["version"] = moved


def pyproject_text(package: Package, entry: PackageVersion) -> str:
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
    if versions:
        project = document.get("project")
        if isinstance(project, MutableMapping):
            _rewrite_requirement_list(project.get("dependencies"), versions)
            optional = project.get("optional-dependencies")
            if isinstance(optional, MutableMapping):
                for requirements in optional.values():
                    _rewrite_requirement_list(requirements, versions)
        tool = document.get("tool")
        poetry = tool.get("poetry") if isinstance(tool, MutableMapping) else None
        if isinstance(poetry, MutableMapping):
            _rewrite_poetry_table(poetry.get("dependencies"), versions)
            _rewrite_poetry_table(poetry.get("dev-dependencies"), versions)
            groups = poetry.get("group")
            if isinstance(groups, MutableMapping):
                for group in groups.values():
                    if isinstance(group, MutableMapping):
                        _rewrite_poetry_table(group.get("dependencies"), versions)
    return tomlkit.dumps(document)


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
    if count == 0:
        raise ConfigError(
            f'{path}: no {variable} = "..." assignment to update '
            f"(listed in tool.poetflow.version-files of {package.name}).",
            hint=f'Add a line {variable} = "{package.version}" or fix version-files.',
        )
    return path, old, new


def package_edits(package: Package, entry: PackageVersion) -> list[FileEdit]:
    """Every file edit for ``package`` under ``entry`` (nothing is written here)."""
    edits: list[FileEdit] = []
    if not entry.changed and not entry.constraint_updates:
        return edits
    old = package.pyproject.read_text(encoding="utf-8")
    edits.append(FileEdit(package.pyproject, old, pyproject_text(package, entry)))
    if entry.changed and entry.next is not None:
        for relative, variable in version_files(package):
            path, before, after = _version_file_text(package, relative, variable, entry.next)
            edits.append(FileEdit(path, before, after))
    return [edit for edit in edits if edit.changes]
