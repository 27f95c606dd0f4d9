"""The ``[tool.poetflow.version]`` settings: bump rules, dependents, version files, messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from poetflow.errors import ConfigError
from poetflow.workspace import Package, Workspace

__all__ = [
    "DEFAULT_BUMP_RULES",
    "DependentsBump",
    "VersionSettings",
    "version_files",
    "version_settings",
]

DependentsBump = Literal["patch", "none"]

# Breaking changes are always major (minor on 0.x unless major-on-zero); this table maps
# the other commit types. Types not listed release nothing.
DEFAULT_BUMP_RULES: Mapping[str, str] = {"feat": "minor", "fix": "patch", "perf": "patch"}
_LEVELS = ("major", "minor", "patch", "none")
_DEFAULT_MESSAGE = "chore(release): {versions}"


@dataclass(frozen=True)
class VersionSettings:
    """Validated versioning settings of the workspace."""

    versioning: str
    tag_format: str
    bump_rules: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_BUMP_RULES))
    major_on_zero: bool = False
    dependents_bump: DependentsBump = "patch"
    shared_paths: tuple[str, ...] = ()
    commit_message: str = _DEFAULT_MESSAGE
    # A ``poetflow.commit_parsers`` plugin name; None: conventional commits.
    commit_parser: str | None = None
    source: str = "pyproject.toml"

    @property
    def release_prefix(self) -> str:
        """The start of every release commit's subject, to leave them out of changelogs."""
        return self.commit_message.split("{", 1)[0]

    def tag_for(self, package: Package, version: str) -> str:
        return self.tag_format.format(name=package.name, version=version)


def _where(workspace: Workspace) -> str:
    return str(workspace.config.source or workspace.root / "pyproject.toml")


def version_settings(workspace: Workspace) -> VersionSettings:
    """Read and validate the settings; every problem names the file and the key."""
    config = workspace.config
    where = _where(workspace)
    section: Mapping[str, Any] = config.section("version")
    rules = dict(DEFAULT_BUMP_RULES)
    raw_rules = section.get("bump-rules", {})
    if not isinstance(raw_rules, Mapping):
        raise ConfigError(
            f"{where}: tool.poetflow.version.bump-rules must be a table of type = level.",
            hint='For example bump-rules = { feat = "minor", fix = "patch" }.',
        )
    for commit_type, level in raw_rules.items():
        if level not in _LEVELS:
            raise ConfigError(
                f"{where}: tool.poetflow.version.bump-rules.{commit_type} is {level!r}; "
                "it must be one of major, minor, patch, none."
            )
        rules[str(commit_type).lower()] = str(level)
    major_on_zero = section.get("major-on-zero", False)
    if not isinstance(major_on_zero, bool):
        raise ConfigError(f"{where}: tool.poetflow.version.major-on-zero must be true or false.")
    dependents = section.get("dependents-bump", "patch")
    if dependents not in ("patch", "none"):
        raise ConfigError(
            f"{where}: tool.poetflow.version.dependents-bump is {dependents!r}; "
            'it must be "patch" or "none".'
        )
    shared = config.raw.get("shared-paths", [])
    if isinstance(shared, str):
        shared = [shared]
    if not isinstance(shared, list) or not all(isinstance(item, str) for item in shared):
        raise ConfigError(
            f"{where}: tool.poetflow.shared-paths must be a list of paths.",
            hint='For example shared-paths = ["poetry.lock", "common/"].',
        )
    message = section.get("commit-message", _DEFAULT_MESSAGE)
    if not isinstance(message, str) or "{versions}" not in message:
        raise ConfigError(
            f"{where}: tool.poetflow.version.commit-message must be a string with {{versions}}.",
            hint=f'For example commit-message = "{_DEFAULT_MESSAGE}".',
        )
    parser = section.get("commit-parser")
    if parser is not None and (not isinstance(parser, str) or not parser.strip()):
        raise ConfigError(
            f"{where}: tool.poetflow.version.commit-parser must be the name of a "
            "poetflow.commit_parsers plugin.",
            hint="Run `poetflow plugins` to list the installed ones.",
        )
    return VersionSettings(
        versioning=config.versioning,
        tag_format=config.tag_format,
        bump_rules=rules,
        major_on_zero=major_on_zero,
        dependents_bump=cast(DependentsBump, dependents),
        shared_paths=tuple(item.strip("/") for item in shared if item.strip("/")),
        commit_message=message,
        commit_parser=parser.strip() if parser is not None else None,
        source=where,
    )


def version_files(package: Package) -> tuple[tuple[str, str], ...]:
    """The package's ``version-files`` as (path relative to the package, variable) pairs."""
    raw = package.settings.get("version-files", [])
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ConfigError(
            f"{package.pyproject}: tool.poetflow.version-files must be a list of "
            '"path:variable" strings.',
            hint='For example version-files = ["src/pkg/__init__.py:__version__"].',
        )
    found = []
    for item in raw:
        path, _, variable = item.rpartition(":")
        if not path:
            path, variable = item, "__version__"
        found.append((path, variable or "__version__"))
    return tuple(found)
