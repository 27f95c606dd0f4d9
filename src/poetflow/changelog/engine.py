"""The changelog engine: build each package's changelog from its history and write it."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from poetflow.changelog.markdown import merge_into, render_release
from poetflow.changelog.model import (
    ChangelogRelease,
    DependencyUpdate,
    PackageChangelog,
    build_release,
    commit_url_base,
    history_releases,
    utc_date,
)
from poetflow.changelog.settings import BREAKING, ChangelogFormat
from poetflow.versioning.versions import is_prerelease

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
    "tag_notes",
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
        if entry is not None and entry.changed and entry.next is not None:
            commits = history.pending
            if not is_prerelease(entry.next) and history.last_tag != history.last_final:
                # A final release after pre-releases gathers their entries: every commit
                # since the last final release, compared with it.
                commits = history.since_final
                previous = history.last_final.name if history.last_final else None
                releases = [r for r in releases if not _prerelease_before(r, entry.next)]
            releases.insert(
                0,
                build_release(
                    commits,
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
    return _with_dependencies(workspace, result, histories, plan)


def _prerelease_before(release: ChangelogRelease, final: str) -> bool:
    """Is ``release`` a pre-release that the final release ``final`` gathers?"""
    from poetflow.versioning.versions import compare_versions

    version = release.version
    return version is not None and is_prerelease(version) and compare_versions(version, final) < 0


def _breaking(release: ChangelogRelease) -> bool:
    return any(section.id == BREAKING for section in release.sections)


def _batches(
    changelogs: Mapping[str, PackageChangelog],
    histories: Mapping[str, PackageHistory],
    plan: VersionPlan | None,
) -> dict[str, dict[str, tuple[ChangelogRelease, DependencyUpdate]]]:
    """Releases made together, by release commit ("" for the one being planned): per
    package, its release and what it was for its dependents (old -> new, breaking)."""
    batches: dict[str, dict[str, tuple[ChangelogRelease, DependencyUpdate]]] = {}
    planned = {entry.name: entry for entry in plan.releases} if plan is not None else {}
    for name, changelog in changelogs.items():
        commits = {tag.name: tag.commit for tag in histories[name].tags}
        versioned = [release for release in changelog.releases if release.version is not None]
        for index, release in enumerate(versioned):
            older = versioned[index + 1].version if index + 1 < len(versioned) else None
            entry = planned.get(name)
            if entry is not None and index == 0 and release.tag == entry.tag:
                key = ""
                breaking = entry.bump == "major" or any(
                    commit.message.breaking for commit in entry.pending
                )
                update = DependencyUpdate(name, entry.current, str(release.version), breaking)
            elif release.tag in commits:
                key = commits[release.tag]
                update = DependencyUpdate(name, older, str(release.version), _breaking(release))
            else:
                continue
            batches.setdefault(key, {})[name] = (release, update)
    return batches


def _with_dependencies(
    workspace: Workspace,
    changelogs: dict[str, PackageChangelog],
    histories: Mapping[str, PackageHistory],
    plan: VersionPlan | None,
) -> dict[str, PackageChangelog]:
    """Each release lists the members it depends on at run time that were released with
    it: a release caused by a dependency says which, and whether that one broke."""
    from dataclasses import replace

    batches = _batches(changelogs, histories, plan)
    batch_of = {
        (name, id(release)): key
        for key, members in batches.items()
        for name, (release, _update) in members.items()
    }
    result = {}
    for name, changelog in changelogs.items():
        runtime = workspace.by_name[name].runtime_dependencies if name in workspace.by_name else ()
        releases = []
        for release in changelog.releases:
            key = batch_of.get((name, id(release)))
            members = batches.get(key, {}) if key is not None else {}
            updates = tuple(members[dep][1] for dep in runtime if dep in members)
            releases.append(replace(release, dependencies=updates) if updates else release)
        result[name] = replace(changelog, releases=tuple(releases))
    return result


def release_notes(changelog: PackageChangelog) -> str:
    """The newest release's Markdown (an annotated tag's message)."""
    if not changelog.releases:
        return ""
    return render_release(changelog.releases[0], heading="#")


def tag_notes(
    workspace: Workspace, tags: Sequence[str], *, plan: VersionPlan | None = None
) -> dict[str, str]:
    """The release notes of each tag (a code host's release body): the changelog section
    of the release it marks, as CHANGELOG.md has it; a tag several packages share (a
    synchronized release) gets the consolidated notes, one section per package. With
    ``plan``, the releases it plans count as tagged (a dry run, before the tags exist)."""
    everyone = list(workspace.packages)
    changelogs = build_changelogs(workspace, everyone, _histories(workspace, everyone), plan=plan)
    notes = {}
    for tag in tags:
        found = [
            (name, release)
            for name, changelog in sorted(changelogs.items())
            for release in changelog.releases
            if release.tag == tag
        ]
        if len(found) == 1 and workspace.config.versioning != "synchronized":
            notes[tag] = render_release(found[0][1], heading="##")
        elif found:
            notes[tag] = "\n".join(
                render_release(
                    release,
                    heading="###",
                    title=f"{workspace.by_name[name].display_name} {release.version}",
                )
                for name, release in found
            )
    return notes


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8") if path.is_file() else None
    except OSError:
        return None


def _root_text(
    workspace: Workspace,
    changelogs: Mapping[str, PackageChangelog],
    histories: Mapping[str, PackageHistory],
    plan: VersionPlan | None,
    existing: str | None,
) -> str:
    """The monorepo's changelog: one section per release (the planned one first), listing
    each package released in it; releases the file already describes are left out."""
    from poetflow.changelog.markdown import existing_versions

    batches = _batches(changelogs, histories, plan)
    times = {tag.commit: tag.time for history in histories.values() for tag in history.tags}
    order = sorted(batches, key=lambda key: (key == "", times.get(key, 0)), reverse=True)
    present = existing_versions(existing)
    synchronized = workspace.config.versioning == "synchronized"
    parts = []
    for key in order:
        members = batches[key]
        released = [(name, members[name][0]) for name in sorted(members)]
        versions = sorted({str(release.version) for _name, release in released})
        date = next((release.date for _name, release in released if release.date), None)
        if synchronized and len(versions) == 1:
            if versions[0] in present:
                continue
            title = f"{versions[0]} ({date})" if date else versions[0]
        else:
            listed = ", ".join(f"{name} {release.version}" for name, release in released)
            title = f"{date}: {listed}" if date else listed
        body = [f"## {title}", ""]
        for name, release in released:
            display = workspace.by_name[name].display_name if name in workspace.by_name else name
            body.append(
                render_release(release, heading="###", title=f"{display} {release.version}")
            )
        parts.append("\n".join(body))
    return "\n".join(parts)


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
            edits.append(FileEdit(path, old, merge_into(old, changelog.releases)))
        if "json" in chosen:
            path = package.path / "CHANGELOG.json"
            text = json.dumps(changelog.to_dict(), indent=2) + "\n"
            edits.append(FileEdit(path, _read(path), text))
    root_file = workspace.config.changelog.root_changelog
    root_is_member = any(p.relpath in ("", ".") for p in everyone)
    if "markdown" in chosen and root_file is not None and not root_is_member:
        path = workspace.root / root_file
        old = _read(path)
        text = _root_text(workspace, all_changelogs, histories, plan, old)
        edits.append(FileEdit(path, old, merge_into(old, text)))
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
