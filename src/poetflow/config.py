"""The ``[tool.poetflow]`` settings, validated at load into typed, frozen sections.

Every section has one owner that parses it (``parse_test`` in :mod:`poetflow.qa.settings`,
``parse_hooks`` in :mod:`poetflow.hooks.config`, ...); :func:`parse_config` calls them all,
so every command refuses a misspelt key or a wrong type anywhere in the table, naming the
file, the key and the closest valid key. Nothing reads the raw table after load.
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

from poetflow.announce.settings import AnnounceSettings, parse_announce
from poetflow.cache.settings import CacheSettings, parse_cache
from poetflow.changelog.settings import ChangelogSettings, parse_changelog
from poetflow.errors import ConfigError
from poetflow.hooks.config import Hooks, parse_hooks
from poetflow.pipeline.settings import PipelineSettings, parse_pipeline
from poetflow.publish.settings import (
    PublishSettings,
    RepositorySettings,
    parse_publish,
    parse_repositories,
)
from poetflow.qa.settings import TestSettings, parse_test
from poetflow.signing.options import SigningSettings, parse_signing
from poetflow.tables import Table, relative_path_problem, shown
from poetflow.versioning.channels import parse_channels
from poetflow.versioning.settings import VersionSettings, parse_version, parse_version_files

__all__ = [
    "DEFAULT_PACKAGE_GLOBS",
    "Config",
    "InternalConstraint",
    "PackageConfig",
    "Versioning",
    "parse_config",
    "parse_package_config",
]

Versioning = Literal["independent", "synchronized"]
InternalConstraint = Literal["exact", "compatible", "minimum"]

DEFAULT_PACKAGE_GLOBS: tuple[str, ...] = ("packages/*",)
_DEFAULT_TAG_FORMAT = {"independent": "{name}-v{version}", "synchronized": "v{version}"}
_TAG_FIELDS = ("name", "version")
# A name and a version that exercise what tag names must survive (dashes, dots, a pre-release).
_SAMPLE_NAME, _SAMPLE_VERSION = "sample-package", "1.2.0rc1"

WORKSPACE_KEYS = (
    "packages", "exclude", "versioning", "tag-format", "internal-constraint", "shared-paths",
    "test", "hooks", "version", "changelog", "repositories", "publish", "signing", "pipeline",
    "cache", "announce", "channels",
)  # fmt: skip
PACKAGE_KEYS = ("test", "hooks", "version-files")


@dataclass(frozen=True)
class PackageConfig:
    """A package's own ``[tool.poetflow]`` table, merged over the workspace's where it
    overrides (``test`` key by key, ``hooks`` hook by hook)."""

    test: TestSettings = field(default_factory=TestSettings)
    hooks: Hooks = field(default_factory=dict)
    version_files: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Config:
    """Workspace-wide settings, one typed field per section."""

    source: Path | None = None
    packages: tuple[str, ...] = DEFAULT_PACKAGE_GLOBS
    exclude: tuple[str, ...] = ()
    versioning: Versioning = "independent"
    tag_format: str = "{name}-v{version}"
    internal_constraint: InternalConstraint = "compatible"
    shared_paths: tuple[str, ...] = ()
    test: TestSettings = field(default_factory=TestSettings)
    hooks: Hooks = field(default_factory=dict)
    version: VersionSettings = field(
        default_factory=lambda: VersionSettings("independent", "{name}-v{version}")
    )
    changelog: ChangelogSettings = field(default_factory=ChangelogSettings)
    repositories: Mapping[str, RepositorySettings] = field(default_factory=dict)
    publish: PublishSettings = field(default_factory=PublishSettings)
    signing: SigningSettings = field(default_factory=SigningSettings)
    pipeline: PipelineSettings = field(default_factory=PipelineSettings)
    cache: CacheSettings = field(default_factory=CacheSettings)
    announce: AnnounceSettings = field(default_factory=AnnounceSettings)
    # The root's own package keys, for a root pyproject.toml that is also a member.
    own: PackageConfig = field(default_factory=PackageConfig)

    @property
    def where(self) -> str:
        return str(self.source) if self.source else "[tool.poetflow]"


def _where(source: Path | None) -> str:
    return str(source) if source else "pyproject.toml"


def check_tag_format(
    tag_format: str, versioning: str, where: str, names: Iterable[str] = ()
) -> None:
    """A tag format names only {name} and {version} and makes valid git tag names, for a
    sample package and for each of ``names`` (the members' names, once they are known)."""
    from poetflow.git import ref_name_problem

    key = "tool.poetflow.tag-format"
    example = 'For example tag-format = "{name}-v{version}".'
    try:
        fields = [name for _text, name, _spec, _conv in string.Formatter().parse(tag_format)]
    except ValueError as exc:
        raise ConfigError(
            f"{where}: {key} {tag_format!r} is not a valid format ({exc}).",
            hint=f"Write a literal brace as {{{{ or }}}}. {example}",
        ) from None
    unknown = sorted({name for name in fields if name is not None and name not in _TAG_FIELDS})
    if unknown:
        raise ConfigError(
            f"{where}: {key} {tag_format!r} uses {{{unknown[0]}}}; only {{name}} and "
            "{version} can appear in a tag.",
            hint=example,
        )
    if "version" not in fields:
        raise ConfigError(
            f"{where}: {key} must be a string containing {{version}}, not {tag_format!r}.",
            hint=example,
        )
    if versioning == "independent" and "name" not in fields:
        raise ConfigError(
            f"{where}: {key} {tag_format!r} has no {{name}}, so independent versions of "
            "different packages would share tags.",
            hint='Add {name}, e.g. "{name}-v{version}", or set versioning = "synchronized".',
        )
    for name in (_SAMPLE_NAME, *names):
        sample = tag_format.format(name=name, version=_SAMPLE_VERSION)
        problem = ref_name_problem(sample)
        if problem:
            whose = "" if name == _SAMPLE_NAME else f" for the package {name}"
            raise ConfigError(
                f"{where}: {key} {tag_format!r} does not make a valid git tag name{whose} "
                f"({sample!r}: {problem}).",
                hint=example,
            )


def _relative_paths(
    root: Table, key: str, default: tuple[str, ...], example: str
) -> tuple[str, ...]:
    """A list of globs (or paths) below the monorepo root, each checked."""
    values = root.strings(key, default, example=example)
    for value in values:
        problem = relative_path_problem(value)
        if problem:
            raise root.error(
                key,
                f"has {shown(value)}, which is invalid: {problem}.",
                f"Write it like {example}.",
            )
    return values


def parse_config(table: Mapping[str, Any], source: Path | None) -> Config:
    """Validate a ``[tool.poetflow]`` table; every problem names the file and the key."""
    root = Table(table, _where(source), "tool.poetflow")
    root.only(tuple(dict.fromkeys((*WORKSPACE_KEYS, *PACKAGE_KEYS))))
    packages = _relative_paths(
        root, "packages", DEFAULT_PACKAGE_GLOBS, example='packages = ["packages/*"]'
    )
    exclude = _relative_paths(root, "exclude", (), example='exclude = ["packages/legacy"]')
    versioning = cast(Versioning, root.choice("versioning", get_args(Versioning), "independent"))
    tag_format = table.get("tag-format", _DEFAULT_TAG_FORMAT[versioning])
    if not isinstance(tag_format, str):
        raise root.error(
            "tag-format",
            f"must be a string containing {{version}}, not {tag_format!r}.",
            'For example tag-format = "{name}-v{version}".',
        )
    check_tag_format(tag_format, versioning, root.where)
    constraint = cast(
        InternalConstraint,
        root.choice("internal-constraint", get_args(InternalConstraint), "compatible"),
    )
    shared = _relative_paths(
        root, "shared-paths", (), example='shared-paths = ["poetry.lock", "common/"]'
    )
    shared_paths = tuple(item.strip("/") for item in shared if item.strip("/"))
    test = parse_test(root.sub("test"))
    hooks = parse_hooks(root.sub("hooks"), source)
    return Config(
        source=source,
        packages=packages,
        exclude=exclude,
        versioning=versioning,
        tag_format=tag_format,
        internal_constraint=constraint,
        shared_paths=shared_paths,
        test=test,
        hooks=hooks,
        version=parse_version(
            root.sub("version"),
            versioning=versioning,
            tag_format=tag_format,
            shared_paths=shared_paths,
            channels=parse_channels(root.sub("channels")),
        ),
        changelog=parse_changelog(root.sub("changelog"), versioning=versioning),
        repositories=parse_repositories(root.sub("repositories")),
        publish=parse_publish(root.sub("publish")),
        signing=parse_signing(root.sub("signing")),
        pipeline=parse_pipeline(root.sub("pipeline")),
        cache=parse_cache(root.sub("cache")),
        announce=parse_announce(root.sub("announce")),
        own=PackageConfig(test=test, version_files=parse_version_files(root)),
    )


def parse_package_config(table: Any, pyproject: Path, workspace: Config) -> PackageConfig:
    """A member's own ``[tool.poetflow]``: only package keys, workspace keys named as such."""
    own = Table(table, str(pyproject), "tool.poetflow")
    elsewhere = {
        key: "it is a workspace setting; move it to the monorepo root's pyproject.toml."
        for key in WORKSPACE_KEYS
        if key not in PACKAGE_KEYS
    }
    own.only(PACKAGE_KEYS, elsewhere=elsewhere)
    return PackageConfig(
        test=parse_test(own.sub("test"), workspace.test),
        hooks=parse_hooks(own.sub("hooks"), pyproject, package=True),
        version_files=parse_version_files(own),
    )
