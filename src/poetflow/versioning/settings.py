"""The ``[tool.poetflow.version]`` settings: bump rules, dependents, version files, messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, cast

from poetflow.tables import Table, relative_path_problem, shown

if TYPE_CHECKING:
    from poetflow.versioning.channels import Channel
    from poetflow.workspace import Package, Workspace

__all__ = [
    "DEFAULT_BUMP_RULES",
    "DependentsBump",
    "DependentsConstraint",
    "VersionSettings",
    "parse_version",
    "parse_version_files",
    "version_files",
    "version_settings",
]

DependentsBump = Literal["patch", "none"]
# "preserve": a dependent's range that admits the new version stays as written; "raise":
# every range is moved up to require the new version.
DependentsConstraint = Literal["preserve", "raise"]

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
    dependents_constraint: DependentsConstraint = "preserve"
    shared_paths: tuple[str, ...] = ()
    commit_message: str = _DEFAULT_MESSAGE
    # A ``poetflow.commit_parsers`` plugin name; None: conventional commits.
    commit_parser: str | None = None
    source: str = "pyproject.toml"
    # ``[tool.poetflow.channels]``: branches whose releases are pre-releases.
    channels: tuple[Channel, ...] = ()

    @property
    def release_prefix(self) -> str:
        """The start of every release commit's subject, to leave them out of changelogs."""
        return self.commit_message.split("{", 1)[0]

    def tag_for(self, package: Package, version: str) -> str:
        return self.tag_format.format(name=package.name, version=version)


KEYS = (
    "bump-rules",
    "major-on-zero",
    "dependents-bump",
    "dependents-constraint",
    "commit-message",
    "commit-parser",
)


def parse_version(
    table: Table,
    *,
    versioning: str,
    tag_format: str,
    shared_paths: tuple[str, ...],
    channels: tuple[Channel, ...] = (),
) -> VersionSettings:
    """Validate ``[tool.poetflow.version]``; the workspace-wide keys (and the parsed
    ``[tool.poetflow.channels]``) come from the caller."""
    table.only(KEYS)
    rules = dict(DEFAULT_BUMP_RULES)
    raw_rules = table.mapping("bump-rules")
    for commit_type, level in raw_rules.items():
        if level not in _LEVELS:
            raise table.error(
                f"bump-rules.{commit_type}",
                f"is {level!r}; it must be one of major, minor, patch, none.",
            )
        rules[str(commit_type).lower()] = str(level)
    dependents = table.choice("dependents-bump", ("patch", "none"), "patch")
    ranges = table.choice("dependents-constraint", ("preserve", "raise"), "preserve")
    message = table.string("commit-message", _DEFAULT_MESSAGE, example=f'"{_DEFAULT_MESSAGE}"')
    if "{versions}" not in message:
        raise table.error(
            "commit-message",
            "must be a string with {versions}.",
            f'For example commit-message = "{_DEFAULT_MESSAGE}".',
        )
    parser = table.string("commit-parser", None, example='"my-parser"')
    return VersionSettings(
        versioning=versioning,
        tag_format=tag_format,
        bump_rules=rules,
        major_on_zero=table.boolean("major-on-zero", False),
        dependents_bump=cast(DependentsBump, dependents),
        dependents_constraint=cast(DependentsConstraint, ranges),
        shared_paths=shared_paths,
        commit_message=message,
        commit_parser=parser.strip() if parser is not None else None,
        source=table.where,
        channels=channels,
    )


def version_settings(workspace: Workspace) -> VersionSettings:
    """The workspace's versioning settings (validated when the workspace was loaded)."""
    return workspace.config.version


def parse_version_files(table: Table) -> tuple[tuple[str, str], ...]:
    """A package's ``version-files`` as (path relative to the package, variable) pairs."""
    raw = table.strings(
        "version-files", (), example='version-files = ["src/pkg/__init__.py:__version__"]'
    )
    found = []
    for item in raw:
        path, _, variable = item.rpartition(":")
        if not path:
            path, variable = item, "__version__"
        # A version file may sit above its package (a root VERSION file of a synchronized
        # release): where it resolves to, symlinks included, is checked against the
        # repository root when the workspace loads (containment.check_inside_root).
        problem = relative_path_problem(path, may_leave=True)
        if problem:
            raise table.error(
                "version-files",
                f"has {shown(item)}, which is invalid: {problem}.",
                'Name a file relative to the package, e.g. "src/pkg/__init__.py:__version__".',
            )
        found.append((path, variable or "__version__"))
    return tuple(found)


def version_files(package: Package) -> tuple[tuple[str, str], ...]:
    return package.config.version_files
