"""CHANGELOG.md: rendering releases and merging them into a file, whoever started it.

PoetFlow's block sits between two markers and is regenerated from git each time, so
hand-written text around it stays. A changelog another tool started (Keep a Changelog,
release-please, commitizen, python-semantic-release) is recognised by its release
headings: the block goes where that file puts new releases — after its preamble and
above its newest release, or at PSR's insertion marker — and a version the file already
describes is not written again, so ``## 1.10.3`` never lands above ``## [1.10.3]``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from poetflow.changelog.model import (
    DEPENDENCIES_ONLY,
    DEPENDENCIES_TITLE,
    ChangelogEntry,
    ChangelogRelease,
)

__all__ = [
    "END_MARKER",
    "START_MARKER",
    "existing_versions",
    "merge_into",
    "new_releases",
    "render_release",
    "render_releases",
]

START_MARKER = "<!-- poetflow:changelog:start - generated from git, edits here are replaced -->"
END_MARKER = "<!-- poetflow:changelog:end -->"
_START_PREFIX = "<!-- poetflow:changelog:start"
NO_RELEASES = "No releases yet."
# python-semantic-release's insertion flags: new releases go right below them.
_INSERTION_FLAGS = ("<!--next-version-placeholder-->", "<!-- version list -->")
_HEADING_RE = re.compile(r"^(?P<level>#{2,4})[ \t]+(?P<text>.+?)[ \t]*#*[ \t]*$")
_VERSION_RE = re.compile(
    r"(?<![\w.])v?(?P<version>\d+\.\d+(?:\.\d+)*(?:[-.]?(?:a|b|c|rc|alpha|beta|pre|preview|dev|post)"
    r"[-.]?\d*)*)(?![\w])",
    re.IGNORECASE,
)
_UNRELEASED = "unreleased"


def _entry(entry: ChangelogEntry) -> list[str]:
    scope = f"**{entry.scope}:** " if entry.scope else ""
    reference = f"[{entry.short_hash}]({entry.url})" if entry.url else entry.short_hash
    lines = [f"- {scope}{entry.subject} ({reference})"]
    if entry.breaking and entry.breaking_note and entry.breaking_note != entry.subject:
        lines.extend(f"  {line}".rstrip() for line in entry.breaking_note.splitlines())
    return lines


def render_release(
    release: ChangelogRelease, *, heading: str = "##", title: str | None = None
) -> str:
    """One release as Markdown: a heading, then one sub-heading per section, then the
    members released with it that it depends on."""
    shown = title or release.title
    if release.compare_url and release.version is not None:
        shown = f"[{shown}]({release.compare_url})"
    lines = [f"{heading} {shown}", ""]
    if not release.sections and not release.dependencies:
        lines.extend([DEPENDENCIES_ONLY if release.version else "No notable changes yet.", ""])
    for section in release.sections:
        lines.extend([f"{heading}# {section.title}", ""])
        for entry in section.entries:
            lines.extend(_entry(entry))
        lines.append("")
    if release.dependencies:
        lines.extend([f"{heading}# {DEPENDENCIES_TITLE}", ""])
        for update in release.dependencies:
            note = (
                f" — **breaking changes** in {update.name} {update.new}" if update.breaking else ""
            )
            lines.append(f"- {update.subject}{note}")
        lines.append("")
    return "\n".join(lines)


def render_releases(releases: Sequence[ChangelogRelease]) -> str:
    return "\n".join(render_release(release) for release in releases)


def _normalised(version: str) -> str:
    from packaging.version import InvalidVersion, Version

    try:
        return str(Version(version))
    except InvalidVersion:
        return version.lower()


def _heading_key(text: str) -> str | None:
    """The release a heading names: a normalised version, "unreleased", or None."""
    if _UNRELEASED in text.lower() and not _VERSION_RE.search(text):
        return _UNRELEASED
    match = _VERSION_RE.search(text)
    return _normalised(match["version"]) if match else None


def _outside_block(text: str) -> tuple[str, str, str] | None:
    """(before, block, after) when ``text`` has PoetFlow's markers; else None."""
    start = text.find(_START_PREFIX)
    end = text.find(END_MARKER, start if start != -1 else 0)
    if start == -1 or end == -1:
        return None
    stop = end + len(END_MARKER)
    return text[:start], text[start:stop], text[stop:]


def existing_versions(existing: str | None) -> set[str]:
    """The releases a changelog describes outside PoetFlow's block (normalised versions,
    and "unreleased" for an Unreleased section written by hand)."""
    if not existing:
        return set()
    parts = _outside_block(existing)
    text = existing if parts is None else parts[0] + parts[2]
    found = set()
    for line in text.splitlines():
        match = _HEADING_RE.match(line)
        if match:
            key = _heading_key(match["text"])
            if key is not None:
                found.add(key)
    return found


def new_releases(
    releases: Sequence[ChangelogRelease], existing: str | None
) -> list[ChangelogRelease]:
    """The releases ``existing`` does not describe yet (outside PoetFlow's block)."""
    present = existing_versions(existing)
    return [
        release
        for release in releases
        if (_normalised(release.version) if release.version else _UNRELEASED) not in present
    ]


def _insertion_point(lines: list[str]) -> int:
    """Where new releases go in a file without markers: below PSR's flag, else above the
    newest versioned release heading, else at the end (after the preamble)."""
    for index, line in enumerate(lines):
        if line.strip() in _INSERTION_FLAGS:
            return index + 1
    for index, line in enumerate(lines):
        match = _HEADING_RE.match(line.rstrip("\n"))
        if match and _heading_key(match["text"]) not in (None, _UNRELEASED):
            return index
    return len(lines)


def merge_into(
    existing: str | None,
    releases: Sequence[ChangelogRelease] | str,
    title: str = "# Changelog",
) -> str:
    """``existing`` with PoetFlow's block holding ``releases`` (those it does not already
    describe); the text around the block stays exactly as it was.

    ``releases`` may be pre-rendered Markdown instead (nothing is filtered then). With
    history of its own and nothing new, a file gets no block at all, and never a "No
    releases yet." above the releases it lists.
    """
    if isinstance(releases, str):
        generated = releases.strip()
    else:
        generated = render_releases(new_releases(releases, existing)).strip()
    has_history = bool(existing_versions(existing) - {_UNRELEASED})
    if not generated:
        generated = "" if has_history else NO_RELEASES
    block = f"{START_MARKER}\n\n{generated}\n\n{END_MARKER}\n" if generated else ""
    if existing is None or not existing.strip():
        return f"{title}\n\n{block}"
    parts = _outside_block(existing)
    if parts is not None:
        before, _old, after = parts
        after = after.removeprefix("\n")
        if not block:
            # Nothing of PoetFlow's left to show: drop the block and the blank line it took.
            return before.rstrip("\n") + "\n\n" + after.lstrip("\n") if after.strip() else before
        return before + block + after
    if not block:
        return existing
    lines = existing.splitlines(keepends=True)
    at = _insertion_point(lines)
    head = "".join(lines[:at])
    rest = "".join(lines[at:])
    if head and not head.endswith("\n"):
        head += "\n"
    if head.strip() and not head.endswith("\n\n"):
        head += "\n"
    rest = rest.lstrip("\n")
    return f"{head}{block}\n{rest}" if rest else f"{head}{block}"
