"""Changelog settings: ``[tool.poetflow.changelog]``, parsed at load."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, cast

from poetflow.tables import Table

__all__ = [
    "BREAKING",
    "DEFAULT_SECTIONS",
    "FORMATS",
    "ChangelogFormat",
    "ChangelogSettings",
    "parse_changelog",
]

ChangelogFormat = Literal["markdown", "json"]
FORMATS: tuple[ChangelogFormat, ...] = ("markdown", "json")
BREAKING = "breaking"
# Section order as shown; types not listed are left out. Breaking changes always come first.
DEFAULT_SECTIONS: Mapping[str, str] = {
    BREAKING: "Breaking changes",
    "feat": "Features",
    "fix": "Bug fixes",
    "perf": "Performance",
    "revert": "Reverts",
    "docs": "Documentation",
}
KEYS = ("formats", "sections", "root-changelog")
_ROOT_FILE = "CHANGELOG.md"


@dataclass(frozen=True)
class ChangelogSettings:
    """Which files to write and which commit types make which section.

    ``root_changelog``: the monorepo-wide changelog (relative to the root), listing each
    package's releases of every release; None: none. By default only synchronized
    versioning has one: with independent versions each package's own changelog is it.
    """

    formats: tuple[ChangelogFormat, ...] = FORMATS
    sections: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SECTIONS))
    root_changelog: str | None = None


def _root_changelog(table: Table, versioning: str) -> str | None:
    value = table.data.get("root-changelog", versioning == "synchronized")
    if value is True:
        return _ROOT_FILE
    if value is False:
        return None
    if not isinstance(value, str) or not value.strip() or not value.endswith(".md"):
        raise table.error(
            "root-changelog",
            f"must be true, false or a Markdown file's path, not {value!r}.",
            'For example root-changelog = "CHANGELOG.md" (relative to the root).',
        )
    return value.strip()


def parse_changelog(table: Table, *, versioning: str = "independent") -> ChangelogSettings:
    table.only(KEYS)
    formats = table.strings("formats", FORMATS, example='formats = ["markdown", "json"]')
    wrong = [item for item in formats if item not in FORMATS]
    if wrong:
        raise table.error("formats", f'has {wrong[0]!r}; it must list "markdown" and/or "json".')
    sections: Mapping[str, str] = DEFAULT_SECTIONS
    if "sections" in table:
        raw = table.mapping("sections")
        if not all(isinstance(value, str) for value in raw.values()):
            raise table.error(
                "sections",
                "must be a table of commit type = section title.",
                'For example sections = { breaking = "Breaking changes", feat = "Features" }.',
            )
        chosen = {str(key).lower(): str(value) for key, value in raw.items()}
        chosen.setdefault(BREAKING, DEFAULT_SECTIONS[BREAKING])
        sections = {BREAKING: chosen.pop(BREAKING), **chosen}
    return ChangelogSettings(
        formats=cast(tuple[ChangelogFormat, ...], formats),
        sections=sections,
        root_changelog=_root_changelog(table, versioning),
    )
