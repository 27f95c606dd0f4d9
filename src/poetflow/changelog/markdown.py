"""CHANGELOG.md: rendering releases and merging them in, keeping hand-written text."""

from __future__ import annotations

from collections.abc import Sequence

from poetflow.changelog.model import DEPENDENCIES_ONLY, ChangelogEntry, ChangelogRelease

__all__ = ["END_MARKER", "START_MARKER", "merge_into", "render_release", "render_releases"]

START_MARKER = "<!-- poetflow:changelog:start - generated from git, edits here are replaced -->"
END_MARKER = "<!-- poetflow:changelog:end -->"
_START_PREFIX = "<!-- poetflow:changelog:start"


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
    """One release as Markdown: a heading, then one sub-heading per section."""
    shown = title or release.title
    if release.compare_url and release.version is not None:
        shown = f"[{shown}]({release.compare_url})"
    lines = [f"{heading} {shown}", ""]
    if not release.sections:
        lines.extend([DEPENDENCIES_ONLY if release.version else "No notable changes yet.", ""])
    for section in release.sections:
        lines.extend([f"{heading}# {section.title}", ""])
        for entry in section.entries:
            lines.extend(_entry(entry))
        lines.append("")
    return "\n".join(lines)


def render_releases(releases: Sequence[ChangelogRelease]) -> str:
    return "\n".join(render_release(release) for release in releases)


def merge_into(existing: str | None, generated: str, title: str = "# Changelog") -> str:
    """Put ``generated`` between the markers of ``existing``; the text around them stays.

    A file without markers gets the block after its first heading (or at the top), so a
    hand-written introduction stays above and older hand-written history below.
    """
    block = f"{START_MARKER}\n\n{generated.rstrip()}\n\n{END_MARKER}\n"
    if existing is None or not existing.strip():
        return f"{title}\n\n{block}"
    start = existing.find(_START_PREFIX)
    end = existing.find(END_MARKER, start if start != -1 else 0)
    if start != -1 and end != -1:
        after = existing[end + len(END_MARKER) :]
        return existing[:start] + block + after.removeprefix("\n")
    lines = existing.splitlines(keepends=True)
    if lines and lines[0].startswith("# "):
        head = lines[0] if lines[0].endswith("\n") else lines[0] + "\n"
        rest = "".join(lines[1:]).lstrip("\n")
        return f"{head}\n{block}\n{rest}" if rest else f"{head}\n{block}"
    return f"{block}\n{existing}"
