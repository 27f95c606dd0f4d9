"""The changelog engine: build each package's changelog from its history and write it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from poetflow.changelog.markdown import merge_into, render_release, render_releases
from poetflow.changelog.model import (
    ChangelogRelease,
    PackageChangelog,
    build_release,
    commit_url_base,
    history_releases,
    utc_date,
)
from poetflow.changelog.settings import ChangelogFormat

if TYPE_CHECKING:
    from poetflow.versioning.edits import FileEdit
    from poetflow.versioning.history import PackageHistory
    from poetflow.versioning.plan import VersionPlan
    from poetflow.workspace import Package, Workspace

__all__ = [
    "ChangelogResult",
    "PackageChangelog",
    "build_changelogs",
    "changelog_edits",
    "changelog_formats",
    "release_notes",
    "write_changelogs",
]


@dataclass(frozen=True)
class ChangelogResult:
    """What ``write_changelogs`` produced: the changelogs and the files (to be) written."""

    changelogs: tuple[PackageChangelog, ...]
    files: tuple[Path, ...]
    dry_run: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "packages": [changelog.to_dict() for changelog in self.changelogs],
            "files": [str(path) for path in self.files],
            "dry_run": self.dry_run,
        }


def changelog_formats(workspace: Workspace) -> tuple[ChangelogFormat, ...]:
    return workspace.config.changelog.formats


def _histories(workspace: Workspace, packages: Sequence[Package]) -> Mapping[str, PackageHistory]:
    from poetflow.git import Repository
    from poetflow.versioning.history import collect_histories
    from poetflow.versioning.settings import version_settings

    repo = Repository.open(workspace.root)
    return collect_histories(repo, workspace, packages, version_settings(workspace), full=True)


def build_changelogs(
    workspace: Workspace,
    packages: Sequence[Package],
    histories: Mapping[str, PackageHistory],
    *,
    plan: VersionPlan | None = None,
    today: str | None = None,
) -> dict[str, PackageChangelog]:
    """Per package: the release being made (from ``plan``) or the unreleased commits, then
    every tagged release, newest first."""
    from poetflow.git import Repository

    sections = workspace.config.changelog.sections
    links = commit_url_base(Repository.open(workspace.root).remote_url())
    result = {}
    for package in packages:
        history = histories[package.name]
        releases = history_releases(history, sections, links)
        previous = history.last_tag.name if history.last_tag else None
        entry = plan.get(package.name) if plan is not None else None
        if entry is not None and entry.changed:
            releases.insert(
                0,
                build_release(
                    history.pending,
                    sections,
                    version=entry.next,
                    tag=entry.tag,
                    date=today or utc_date(),
                    links=links,
                    previous_tag=previous,
                ),
            )
        elif history.pending and any(c.message.conventional for c in history.pending):
            unreleased = build_release(
                history.pending,
                sections,
                version=None,
                tag=None,
                date=None,
                links=links,
                previous_tag=previous,
            )
            if unreleased.sections:
                releases.insert(0, unreleased)
        result[package.name] = PackageChangelog(package.name, package.relpath, tuple(releases))
    return result


def release_notes(changelog: PackageChangelog) -> str:
    """The newest release's Markdown (an annotated tag's message)."""
    if not changelog.releases:
        return ""
    return render_release(changelog.releases[0], heading="#")


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else None
    except OSError:
        return None


def _root_text(changelogs: Mapping[str, PackageChangelog]) -> str:
    """Every package's releases in one list, newest first."""
    releases: list[tuple[str, str, ChangelogRelease]] = []
    for name, changelog in changelogs.items():
        for release in changelog.releases:
            if release.version is not None:
                releases.append((release.date or "", name, release))
    releases.sort(key=lambda item: (item[0], item[1]), reverse=True)
    parts = [
        render_release(release, title=f"{name} {release.title}")
        for _date, name, release in releases
    ]
    return "\n".join(parts) if parts else "No releases yet."


def changelog_edits(
    workspace: Workspace,
    packages: Sequence[Package] | None = None,
    *,
    plan: VersionPlan | None = None,
    formats: Sequence[ChangelogFormat] | None = None,
    histories: Mapping[str, PackageHistory] | None = None,
    today: str | None = None,
) -> tuple[dict[str, PackageChangelog], list[FileEdit]]:
    """The changelogs and the file edits that write them (nothing is written here)."""
    from poetflow.versioning.edits import FileEdit

    selected = list(workspace.packages if packages is None else packages)
    chosen = tuple(formats or changelog_formats(workspace))
    everyone = list(workspace.packages)
    if histories is None or any(p.name not in histories for p in everyone):
        histories = _histories(workspace, everyone)
    all_changelogs = build_changelogs(workspace, everyone, histories, plan=plan, today=today)
    changelogs = {p.name: all_changelogs[p.name] for p in selected}
    edits: list[FileEdit] = []
    for package in selected:
        changelog = changelogs[package.name]
        if "markdown" in chosen:
            path = package.path / "CHANGELOG.md"
            old = _read(path)
            body = render_releases(changelog.releases) or "No releases yet."
            edits.append(FileEdit(path, old, merge_into(old, body)))
        if "json" in chosen:
            path = package.path / "CHANGELOG.json"
            text = json.dumps(changelog.to_dict(), indent=2) + "\n"
            edits.append(FileEdit(path, _read(path), text))
    if "markdown" in chosen and not any(p.relpath in ("", ".") for p in everyone):
        path = workspace.root / "CHANGELOG.md"
        old = _read(path)
        edits.append(FileEdit(path, old, merge_into(old, _root_text(all_changelogs))))
    return changelogs, [edit for edit in edits if edit.changes]


def write_changelogs(
    workspace: Workspace,
    packages: Sequence[Package] | None = None,
    *,
    plan: VersionPlan | None = None,
    formats: Sequence[ChangelogFormat] | None = None,
    dry_run: bool = False,
    histories: Mapping[str, PackageHistory] | None = None,
) -> ChangelogResult:
    """Write CHANGELOG.md / CHANGELOG.json of ``packages`` and the root CHANGELOG.md.

    Regenerated from git each time between markers, so running it twice changes nothing
    and hand-written text around the markers stays.
    """
    from poetflow.hooks.stage import StageHooks
    from poetflow.versioning.transaction import PlannedRelease, validate, write_journalled

    changelogs, edits = changelog_edits(
        workspace, packages, plan=plan, formats=formats, histories=histories
    )
    selected = [workspace.by_name[name] for name in changelogs]
    hooks = StageHooks(workspace, "changelog", selected, dry_run=dry_run)
    # Checked before any hook runs, so --dry-run refuses exactly what the real run would.
    validate(PlannedRelease(workspace.root, tuple(edits), None, (), True), None)

    def write() -> None:
        if not dry_run:
            write_journalled(workspace.root, edits, "poetflow changelog")

    hooks.run_together(selected, write)
    return ChangelogResult(tuple(changelogs.values()), tuple(edit.path for edit in edits), dry_run)
