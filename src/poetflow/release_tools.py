"""The settings of the release tool a repository already uses, in PoetFlow's terms.

``poetflow init`` reads commitizen (``[tool.commitizen]``, ``.cz.toml``, ``cz.json``),
python-semantic-release (``[tool.semantic_release]``, ``releaserc.toml``), release-please
(``release-please-config.json`` with ``.release-please-manifest.json``) and bump-my-version
(``[tool.bumpversion]``, ``.bumpversion.toml``, ``.bumpversion.cfg``), at the root and in
each package, and carries over what PoetFlow has an equivalent for: the tag format and
the files that hold each package's version. What it cannot carry over is said in
``notes``, so nothing is dropped silently.
"""

from __future__ import annotations

import configparser
import glob
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from poetflow.errors import MetadataError
from poetflow.metadata import canonical_name

__all__ = ["AdoptedSettings", "read_release_tools"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class AdoptedSettings:
    """What the existing release setup says: ``version_files`` maps a package's folder
    (relative to the root) to its ``version-files`` entries (relative to the package)."""

    tools: tuple[str, ...] = ()
    tag_format: str | None = None
    version_files: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "tools": list(self.tools),
            "tag_format": self.tag_format,
            "version_files": {k: list(v) for k, v in self.version_files.items()},
            "notes": list(self.notes),
        }


@dataclass
class _Found:
    tools: list[str] = field(default_factory=list)
    formats: list[tuple[str, str]] = field(default_factory=list)  # (tool, PoetFlow format)
    files: dict[str, list[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def tool(self, name: str) -> None:
        if name not in self.tools:
            self.tools.append(name)


def _toml(path: Path) -> Mapping[str, Any]:
    from poetflow.tomlfile import read_toml

    if not path.is_file():
        return {}
    try:
        return read_toml(path)
    except MetadataError:
        return {}


def _json(path: Path) -> Mapping[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, Mapping) else {}


def _table(data: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    for key in keys:
        value = data.get(key)
        if not isinstance(value, Mapping):
            return {}
        data = value
    return data


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _named(tag_format: str, package_names: Iterable[str]) -> str:
    """A tag format written for one package (``core-v{version}``) with {name} put back."""
    if "{name}" in tag_format:
        return tag_format
    for name in sorted(package_names, key=len, reverse=True):
        for spelling in {name, canonical_name(name), canonical_name(name).replace("-", "_")}:
            if spelling and spelling in tag_format:
                return tag_format.replace(spelling, "{name}", 1)
    return tag_format


class _Reader:
    def __init__(self, root: Path, packages: Sequence[Any]) -> None:
        self.root = root
        self.packages = sorted(packages, key=lambda p: len(p.relpath), reverse=True)
        self.found = _Found()

    def _owner(self, path: Path) -> Any:
        """The package whose folder holds ``path`` (the deepest one)."""
        relative = os.path.relpath(path, self.root).replace(os.sep, "/")
        for package in self.packages:
            if relative == package.relpath or relative.startswith(package.relpath + "/"):
                return package
        return None

    def version_file(self, tool: str, base: Path, pattern: str, variable: str | None) -> None:
        """A file (or glob) relative to ``base`` that ``tool`` keeps the version in."""
        matches = sorted(glob.glob(str(base / pattern), recursive=True)) or []
        if not matches:
            self.found.notes.append(f"{tool}: version file {pattern!r} matches no file")
            return
        for match in matches:
            path = Path(match)
            if path.name == "pyproject.toml":
                continue  # PoetFlow writes the version there itself
            owner = self._owner(path)
            if owner is None:
                where = path.relative_to(self.root).as_posix()
                self.found.notes.append(
                    f"{tool}: {where} is outside every package; PoetFlow updates only "
                    "files of a package"
                )
                continue
            relative = path.relative_to(self.root / owner.relpath).as_posix()
            named = variable if variable and _IDENTIFIER.match(variable) else None
            if variable and not named:
                self.found.notes.append(
                    f"{tool}: {relative} of {owner.name} is matched by {variable!r}; PoetFlow "
                    'updates a `__version__ = "..."` assignment there instead'
                )
            entry = relative if named in (None, "__version__") else f"{relative}:{named}"
            entries = self.found.files.setdefault(owner.relpath, [])
            if entry not in entries:
                entries.append(entry)

    def tag_format(self, tool: str, converted: str | None, original: str, base: Path) -> None:
        if converted is None:
            self.found.notes.append(f"{tool}: tag format {original!r} has no PoetFlow equivalent")
            return
        owner = self._owner(base) if base != self.root else None
        names = [owner.name] if owner is not None else [p.name for p in self.packages]
        self.found.formats.append((tool, _named(converted, names)))

    # -- each tool ------------------------------------------------------------------------

    def commitizen(self, base: Path, table: Mapping[str, Any]) -> None:
        if not table:
            return
        self.found.tool("commitizen")
        original = table.get("tag_format")
        if isinstance(original, str):
            converted: str | None = original.replace("${version}", "{version}").replace(
                "$version", "{version}"
            )
            if converted is not None and "$" in converted:
                converted = None  # $major.$minor...: a format of its own
            self.tag_format("commitizen", converted, original, base)
        for item in _strings(table.get("version_files")):
            path, _, regex = item.partition(":")
            self.version_file("commitizen", base, path, regex or None)

    def semantic_release(self, base: Path, table: Mapping[str, Any]) -> None:
        if not table:
            return
        self.found.tool("python-semantic-release")
        original = table.get("tag_format")
        if isinstance(original, str):
            self.tag_format("python-semantic-release", original, original, base)
        for item in _strings(table.get("version_variables")):
            path, _, rest = item.partition(":")
            self.version_file("python-semantic-release", base, path, rest.split(":")[0] or None)
        for item in _strings(table.get("version_toml")):
            path = item.partition(":")[0]
            if Path(path).name != "pyproject.toml":
                self.found.notes.append(
                    f"python-semantic-release: version_toml {item!r} is not carried over "
                    "(PoetFlow writes pyproject.toml and Python/VERSION files)"
                )

    def bumpversion(self, base: Path, table: Mapping[str, Any], files: Sequence[str]) -> None:
        self.found.tool("bump-my-version")
        original = table.get("tag_name")
        if isinstance(original, str):
            converted = original.replace("{new_version}", "{version}")
            ok = "{version}" in converted and "{" not in converted.replace("{version}", "")
            self.tag_format("bump-my-version", converted if ok else None, original, base)
        for name in files:
            self.version_file("bump-my-version", base, name, None)

    def release_please(self, config: Mapping[str, Any]) -> None:
        self.found.tool("release-please")
        packages = _table(config, "packages")
        for relpath, settings in packages.items():
            if not isinstance(settings, Mapping):
                continue
            merged = {**config, **settings}
            folder = self.root / relpath if relpath not in ("", ".") else self.root
            owner = self._owner(folder)
            component = merged.get("component") or merged.get("package-name")
            with_component = merged.get("include-component-in-tag", len(packages) > 1)
            v = "v" if merged.get("include-v-in-tag", True) else ""
            separator = merged.get("tag-separator", "-")
            if with_component and isinstance(component, str):
                same = owner is not None and canonical_name(component) == canonical_name(owner.name)
                name = "{name}" if same else component
                self.tag_format(
                    "release-please", f"{name}{separator}{v}{{version}}", str(component), folder
                )
            else:
                self.tag_format("release-please", f"{v}{{version}}", "(no component)", folder)
            for item in merged.get("extra-files", []) if isinstance(merged, Mapping) else []:
                path = item.get("path") if isinstance(item, Mapping) else item
                if isinstance(path, str):
                    base = self.root if path.startswith("/") else folder
                    self.version_file("release-please", base, path.lstrip("/"), None)

    def read(self) -> AdoptedSettings:
        folders = [self.root, *(self.root / p.relpath for p in self.packages)]
        for folder in dict.fromkeys(folders):
            pyproject = _toml(folder / "pyproject.toml")
            self.commitizen(folder, _table(pyproject, "tool", "commitizen"))
            for name in (".cz.toml", "cz.toml"):
                self.commitizen(folder, _table(_toml(folder / name), "tool", "commitizen"))
            for name in (".cz.json", "cz.json"):
                self.commitizen(folder, _table(_json(folder / name), "commitizen"))
            self.semantic_release(folder, _table(pyproject, "tool", "semantic_release"))
            releaserc = _toml(folder / "releaserc.toml")
            self.semantic_release(
                folder,
                _table(releaserc, "semantic_release")
                or _table(releaserc, "tool", "semantic_release"),
            )
            for data in (pyproject, _toml(folder / ".bumpversion.toml")):
                table = _table(data, "tool", "bumpversion")
                if table:
                    files = [
                        str(item["filename"])
                        for item in table.get("files", [])
                        if isinstance(item, Mapping) and isinstance(item.get("filename"), str)
                    ]
                    self.bumpversion(folder, table, files)
            self._bumpversion_cfg(folder)
        config = _json(self.root / "release-please-config.json")
        if config:
            self.release_please(config)
        return self._result()

    def _bumpversion_cfg(self, folder: Path) -> None:
        path = folder / ".bumpversion.cfg"
        if not path.is_file():
            return
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(path, encoding="utf-8")
        except configparser.Error:
            return
        main = dict(parser["bumpversion"]) if parser.has_section("bumpversion") else {}
        files = [section.split(":", 2)[2] for section in parser.sections()
                 if section.startswith("bumpversion:file:")]  # fmt: skip
        self.bumpversion(folder, main, files)

    def _result(self) -> AdoptedSettings:
        formats = list(dict.fromkeys(fmt for _tool, fmt in self.found.formats))
        notes = list(self.found.notes)
        chosen = formats[0] if formats else None
        if len(formats) > 1:
            notes.append(
                f"the tag formats {', '.join(formats)} differ; PoetFlow uses one: {chosen}"
            )
        return AdoptedSettings(
            tools=tuple(self.found.tools),
            tag_format=chosen,
            version_files={k: tuple(v) for k, v in sorted(self.found.files.items())},
            notes=tuple(notes),
        )


def read_release_tools(root: Path, packages: Sequence[Any]) -> AdoptedSettings:
    """The existing release setup of ``root`` (``packages`` have ``name`` and ``relpath``)."""
    return _Reader(root, packages).read()
