"""The ``[tool.poetflow]`` settings of a monorepo root, validated into a frozen object."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

from poetflow.errors import ConfigError

__all__ = [
    "DEFAULT_PACKAGE_GLOBS",
    "Config",
    "InternalConstraint",
    "Versioning",
    "parse_config",
]

Versioning = Literal["independent", "synchronized"]
InternalConstraint = Literal["exact", "compatible", "minimum"]

DEFAULT_PACKAGE_GLOBS: tuple[str, ...] = ("packages/*",)
_DEFAULT_TAG_FORMAT = {"independent": "{name}-v{version}", "synchronized": "v{version}"}


@dataclass(frozen=True)
class Config:
    """Workspace-wide settings.

    ``raw`` keeps the whole table so that each stage (test, hooks, repositories,
    changelog, signing, pipeline) reads and validates its own section.
    """

    source: Path | None = None
    packages: tuple[str, ...] = DEFAULT_PACKAGE_GLOBS
    exclude: tuple[str, ...] = ()
    versioning: Versioning = "independent"
    tag_format: str = "{name}-v{version}"
    internal_constraint: InternalConstraint = "compatible"
    raw: Mapping[str, Any] = field(default_factory=dict)

    def section(self, name: str) -> Mapping[str, Any]:
        """Return the sub-table ``[tool.poetflow.<name>]`` (empty when absent)."""
        value = self.raw.get(name, {})
        if not isinstance(value, Mapping):
            raise ConfigError(
                f"{self._where()}: [tool.poetflow.{name}] must be a table.",
                hint=f"Write it as [tool.poetflow.{name}] with keys below it.",
            )
        return value

    def _where(self) -> str:
        return str(self.source) if self.source else "[tool.poetflow]"


def _string_list(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...] | None:
    if key not in table:
        return None
    value = table[key]
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise ConfigError(
        f"{where}: tool.poetflow.{key} must be a list of strings, not {value!r}.",
        hint=f'Write it like {key} = ["packages/*"].',
    )


def _choice(table: Mapping[str, Any], key: str, allowed: tuple[str, ...], where: str) -> str | None:
    if key not in table:
        return None
    value = table[key]
    if value not in allowed:
        choices = ", ".join(f'"{item}"' for item in allowed)
        raise ConfigError(
            f"{where}: tool.poetflow.{key} is {value!r}; it must be one of {choices}."
        )
    return cast(str, value)


def parse_config(table: Mapping[str, Any], source: Path | None) -> Config:
    """Validate a ``[tool.poetflow]`` table; every problem names the file and the key."""
    where = str(source) if source else "[tool.poetflow]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: [tool.poetflow] must be a table.")
    packages = _string_list(table, "packages", where) or DEFAULT_PACKAGE_GLOBS
    exclude = _string_list(table, "exclude", where) or ()
    versioning = cast(
        Versioning, _choice(table, "versioning", get_args(Versioning), where) or "independent"
    )
    tag_format = table.get("tag-format", _DEFAULT_TAG_FORMAT[versioning])
    if not isinstance(tag_format, str) or "{version}" not in tag_format:
        raise ConfigError(
            f"{where}: tool.poetflow.tag-format must be a string containing {{version}}, "
            f"not {tag_format!r}.",
            hint='For example tag-format = "{name}-v{version}".',
        )
    if versioning == "independent" and "{name}" not in tag_format:
        raise ConfigError(
            f"{where}: tool.poetflow.tag-format {tag_format!r} has no {{name}}, so independent "
            "versions of different packages would share tags.",
            hint='Add {name}, e.g. "{name}-v{version}", or set versioning = "synchronized".',
        )
    constraint = cast(
        InternalConstraint,
        _choice(table, "internal-constraint", get_args(InternalConstraint), where) or "compatible",
    )
    return Config(
        source=source,
        packages=packages,
        exclude=exclude,
        versioning=versioning,
        tag_format=tag_format,
        internal_constraint=constraint,
        raw=dict(table),
    )
