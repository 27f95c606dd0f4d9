"""The changelog as data: releases, sections and entries built from a package's history."""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from poetflow.changelog.settings import BREAKING
from poetflow.versioning.history import PackageCommit, PackageHistory

__all__ = [
    "DEPENDENCIES",
    "ChangelogEntry",
    "ChangelogRelease",
    "ChangelogSection",
    "DependencyUpdate",
    "PackageChangelog",
    "build_release",
    "commit_url_base",
]

DEPENDENCIES_ONLY = "No notable changes of its own (maintenance)."
# The section a release gets for the members it depends on that were released with it.
DEPENDENCIES = "dependencies"
DEPENDENCIES_TITLE = "Dependencies"


@dataclass(frozen=True)
class ChangelogEntry:
    """One commit in a changelog section."""

    type: str
    scope: str | None
    subject: str
    breaking: bool
    breaking_note: str | None
    hash: str
    url: str | None

    @property
    def short_hash(self) -> str:
        return self.hash[:7]

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "scope": self.scope,
            "subject": self.subject,
            "breaking": self.breaking,
            "breaking_note": self.breaking_note,
            "hash": self.hash,
            "short_hash": self.short_hash,
            "url": self.url,
        }


@dataclass(frozen=True)
class ChangelogSection:
    id: str
    title: str
    entries: tuple[ChangelogEntry, ...]


@dataclass(frozen=True)
class DependencyUpdate:
    """A member this package depends on at run time, released together with it.

    ``breaking``: that member's release had breaking changes (a major bump, or a
    breaking commit on 0.x), which a dependent's users should hear about.
    """

    name: str
    old: str | None
    new: str
    breaking: bool

    @property
    def subject(self) -> str:
        return f"{self.name} {self.old or '(new)'} → {self.new}"

    def to_entry(self) -> dict[str, Any]:
        """As an entry of the JSON ``dependencies`` section (commit fields are null)."""
        return {
            "type": "dependency",
            "scope": self.name,
            "subject": self.subject,
            "breaking": self.breaking,
            "breaking_note": f"{self.name} {self.new} has breaking changes"
            if self.breaking
            else None,
            "hash": None,
            "short_hash": None,
            "url": None,
            "dependency": {"name": self.name, "from": self.old, "to": self.new},
        }


@dataclass(frozen=True)
class ChangelogRelease:
    """A release (``version`` None: the unreleased commits since the last tag)."""

    version: str | None
    tag: str | None
    date: str | None
    sections: tuple[ChangelogSection, ...]
    compare_url: str | None = None
    dependencies: tuple[DependencyUpdate, ...] = ()

    @property
    def title(self) -> str:
        if self.version is None:
            return "Unreleased"
        return f"{self.version} ({self.date})" if self.date else self.version

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "tag": self.tag,
            "date": self.date,
            "unreleased": self.version is None,
            "compare_url": self.compare_url,
            "sections": [
                {
                    "id": section.id,
                    "title": section.title,
                    "entries": [entry.to_dict() for entry in section.entries],
                }
                for section in self.sections
            ]
            + (
                [
                    {
                        "id": DEPENDENCIES,
                        "title": DEPENDENCIES_TITLE,
                        "entries": [update.to_entry() for update in self.dependencies],
                    }
                ]
                if self.dependencies
                else []
            ),
        }


@dataclass(frozen=True)
class PackageChangelog:
    """Every release of one package, newest first.

    JSON schema ``poetflow-changelog/1`` (CHANGELOG.json; stable, fields only added)::

        {"schema": "poetflow-changelog/1", "package": str, "path": str,
         "releases": [{"version": str | null (null = unreleased), "tag": str | null,
                       "date": "YYYY-MM-DD" | null, "unreleased": bool,
                       "compare_url": str | null,
                       "sections": [{"id": "breaking" | commit type | "dependencies",
                                     "title": str,
                                     "entries": [{"type", "scope", "subject", "breaking",
                                                  "breaking_note", "hash", "short_hash",
                                                  "url"}]}]}]}

    The ``dependencies`` section lists the members this package depends on that were
    released with it: ``type`` "dependency", ``scope`` the member, ``hash``/``url`` null
    and a ``dependency`` object ``{"name", "from", "to"}``.
    """

    package: str
    path: str
    releases: tuple[ChangelogRelease, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": "poetflow-changelog/1",
            "package": self.package,
            "path": self.path,
            "releases": [release.to_dict() for release in self.releases],
        }


_REMOTE_RE = re.compile(
    r"^(?:https?://(?:[^@/]+@)?|ssh://(?:[^@/]+@)?|git@)"
    r"(?P<host>(?:[\w.-]*\.)?(?:github|gitlab)\.[\w.-]+)(?::\d+)?[:/](?P<path>.+?)(?:\.git)?/?$"
)


def commit_url_base(origin: str | None) -> tuple[str, str] | None:
    """(web URL of the project, host kind) for a GitHub or GitLab ``origin``; else None."""
    if not origin:
        return None
    match = _REMOTE_RE.match(origin.strip())
    if match is None:
        return None
    host = match.group("host")
    kind = "gitlab" if "gitlab" in host else "github"
    return f"https://{host}/{match.group('path')}", kind


def _commit_url(links: tuple[str, str] | None, commit: str) -> str | None:
    if links is None:
        return None
    base, kind = links
    return f"{base}/-/commit/{commit}" if kind == "gitlab" else f"{base}/commit/{commit}"


def compare_url(links: tuple[str, str] | None, old: str | None, new: str | None) -> str | None:
    if links is None or old is None or new is None:
        return None
    base, kind = links
    return (
        f"{base}/-/compare/{old}...{new}" if kind == "gitlab" else f"{base}/compare/{old}...{new}"
    )


def build_release(
    commits: Sequence[PackageCommit],
    sections: Mapping[str, str],
    *,
    version: str | None,
    tag: str | None,
    date: str | None,
    links: tuple[str, str] | None,
    previous_tag: str | None,
) -> ChangelogRelease:
    """Group ``commits`` into sections (in configured order, commits oldest first)."""
    grouped: dict[str, list[ChangelogEntry]] = {key: [] for key in sections}
    for commit in sorted(commits, key=lambda c: c.time):
        message = commit.message
        if not message.conventional or message.type is None:
            continue
        key = BREAKING if message.breaking else message.type
        if key not in grouped:
            continue
        grouped[key].append(
            ChangelogEntry(
                type=message.type,
                scope=message.scope,
                subject=message.subject,
                breaking=message.breaking,
                breaking_note=message.breaking_note if message.breaking else None,
                hash=commit.id,
                url=_commit_url(links, commit.id),
            )
        )
    built = tuple(
        ChangelogSection(key, sections[key], tuple(entries))
        for key, entries in grouped.items()
        if entries
    )
    return ChangelogRelease(
        version=version,
        tag=tag,
        date=date,
        sections=built,
        compare_url=compare_url(links, previous_tag, tag),
    )


def utc_date(timestamp: int | None = None) -> str:
    moment = (
        _dt.datetime.now(_dt.timezone.utc)
        if timestamp is None
        else _dt.datetime.fromtimestamp(timestamp, _dt.timezone.utc)
    )
    return moment.strftime("%Y-%m-%d")


def history_releases(
    history: PackageHistory,
    sections: Mapping[str, str],
    links: tuple[str, str] | None,
) -> list[ChangelogRelease]:
    """The tagged releases of ``history``, newest first.

    A final release gathers the entries of the pre-releases before it (``2.0.0`` lists
    what ``2.0.0rc1`` and ``rc2`` shipped, compared with the previous final release), so
    those pre-releases get no section of their own; pre-releases after the last final
    release keep theirs.
    """
    tags = list(history.tags)  # oldest version first
    final_after = [False] * len(tags)
    seen_final = False
    for index in range(len(tags) - 1, -1, -1):
        final_after[index] = seen_final
        seen_final = seen_final or not tags[index].prerelease
    releases = []
    previous: str | None = None
    previous_final: str | None = None
    gathered: list[PackageCommit] = []
    for index, tag in enumerate(tags):
        own = history.releases.get(tag.name, ())
        if tag.prerelease and final_after[index]:
            gathered.extend(own)
            continue
        final = not tag.prerelease
        releases.append(
            build_release(
                (*gathered, *own) if final else own,
                sections,
                version=tag.version,
                tag=tag.name,
                date=utc_date(tag.time),
                links=links,
                previous_tag=previous_final if final and gathered else previous,
            )
        )
        if final:
            gathered = []
            previous_final = tag.name
        previous = tag.name
    releases.reverse()
    return releases
