"""Applying a version plan: write versions and changelogs (all or nothing), commit, tag, push."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poetflow.errors import GitError
from poetflow.versioning.edits import FileEdit, package_edits
from poetflow.versioning.plan import PackageVersion, VersionPlan
from poetflow.versioning.transaction import write_all

if TYPE_CHECKING:
    from poetflow.changelog.model import PackageChangelog
    from poetflow.git import Repository
    from poetflow.workspace import Workspace

__all__ = [
    "VersionResult",
    "apply_plan",
    "commit_release",
    "push_release",
    "release_tags",
    "tag_release",
    "version_edits",
]


@dataclass(frozen=True)
class VersionResult:
    """What ``apply_plan`` did (or, with ``dry_run``, would do)."""

    plan: VersionPlan
    files: tuple[Path, ...]
    commit: str | None
    tags: tuple[str, ...]
    pushed: bool
    dry_run: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.plan.to_dict(),
            "files": [str(path) for path in self.files],
            "commit": self.commit,
            "tags": list(self.tags),
            "pushed": self.pushed,
            "dry_run": self.dry_run,
        }


def version_edits(workspace: Workspace, entry: PackageVersion) -> list[FileEdit]:
    """The version stage of one package: its pyproject.toml and version files."""
    return package_edits(workspace.by_name[entry.name], entry)


def release_tags(plan: VersionPlan) -> dict[str, list[str]]:
    """Tag name -> the packages it releases (one shared tag under synchronized versioning)."""
    tags: dict[str, list[str]] = {}
    for entry in plan.releases:
        if entry.tag:
            tags.setdefault(entry.tag, []).append(entry.name)
    return tags


def commit_release(repo: Repository, plan: VersionPlan, files: Sequence[Path]) -> str:
    """One release commit with the changed files, its subject listing the new versions."""
    versions = ", ".join(f"{e.name} {e.next}" for e in plan.releases)
    subject = plan.settings.commit_message.format(versions=versions or "constraints")
    body = "\n".join(f"- {e.name}: {e.current} -> {e.next}" for e in plan.releases)
    return repo.commit_paths(files, f"{subject}\n\n{body}\n" if body else subject)


def tag_release(repo: Repository, tag: str, message: str) -> None:
    """The tag stage of one release: an annotated tag on HEAD, the notes as message."""
    repo.create_tag(tag, message or tag)


def push_release(repo: Repository, tags: Sequence[str], *, branch: bool) -> None:
    refs = [f"refs/tags/{tag}" for tag in tags]
    if branch:
        name = repo.current_branch()
        if name is None:
            raise GitError(
                f"{repo.workdir} is on a detached HEAD; PoetFlow cannot push the release commit.",
                hint="Check out the release branch first (actions/checkout with ref: main).",
            )
        refs.insert(0, f"HEAD:refs/heads/{name}")
    repo.push(refs)


def _notes(tag: str, names: list[str], changelogs: Mapping[str, PackageChangelog]) -> str:
    from poetflow.changelog.engine import release_notes

    parts = [release_notes(changelogs[name]) for name in names if name in changelogs]
    return "\n".join(part for part in parts if part).strip() or tag


def _write_with_hooks(
    workspace: Workspace,
    plan: VersionPlan,
    changelog_names: Sequence[str],
    edits: Sequence[FileEdit],
    dry_run: bool,
) -> None:
    """write_all between the pre-/post-version hooks (and the -changelog ones when
    changelogs are written too); a failing pre-hook leaves every file untouched."""
    from poetflow.hooks.stage import StageHooks

    touched = [workspace.by_name[entry.name] for entry in plan.touched]
    released = [workspace.by_name[name] for name in changelog_names]
    versions = {entry.name: (entry.current, entry.next) for entry in plan.touched}
    version_hooks = StageHooks(workspace, "version", touched, dry_run=dry_run)
    changelog_hooks = StageHooks(workspace, "changelog", released, dry_run=dry_run)

    def write() -> None:
        if not dry_run:
            write_all(list(edits))

    version_hooks.run_together(
        touched,
        lambda: changelog_hooks.run_together(released, write, versions=versions),
        versions=versions,
    )


def _plan_edits(
    workspace: Workspace, plan: VersionPlan, *, changelog: bool, tag: bool
) -> tuple[list[FileEdit], dict[str, PackageChangelog]]:
    """The file edits the plan makes, and the changelog sections (tag messages)."""
    edits: list[FileEdit] = []
    for entry in plan.touched:
        edits.extend(version_edits(workspace, entry))
    changelogs: dict[str, PackageChangelog] = {}
    if (changelog or tag) and plan.releases:
        from poetflow.changelog.engine import changelog_edits

        # Tag messages are the changelog sections, so they are built for --tag alone too.
        released = [workspace.by_name[entry.name] for entry in plan.releases]
        changelogs, changelog_files = changelog_edits(workspace, released, plan=plan)
        if changelog:
            edits.extend(changelog_files)
    return edits, changelogs


def files_to_write(
    workspace: Workspace, plan: VersionPlan, *, changelog: bool = True
) -> tuple[Path, ...]:
    """The files ``apply_plan`` would write, computed without running any hook."""
    if not plan.touched:
        return ()
    edits, _ = _plan_edits(workspace, plan, changelog=changelog, tag=False)
    return tuple(edit.path for edit in edits)


def apply_plan(
    workspace: Workspace,
    plan: VersionPlan,
    *,
    changelog: bool = True,
    commit: bool = False,
    tag: bool = False,
    push: bool = False,
    dry_run: bool = False,
) -> VersionResult:
    """Write the plan: versions, constraints, version files and changelogs in one
    all-or-nothing step; then optionally commit, tag (annotated, notes as message) and push.

    Tags are checked before anything is written so a clash changes nothing.
    """
    from poetflow.git import Repository

    repo = Repository.open(workspace.root) if (commit or tag or push or changelog) else None
    tags = release_tags(plan) if tag else {}
    if repo is not None:
        existing = {t.name for t in repo.tags()}
        clash = sorted(set(tags) & existing)
        if clash:
            raise GitError(
                f"The tag {clash[0]!r} already exists in {repo.workdir}; nothing was changed.",
                hint="Bump to a different version or delete the tag.",
            )
    edits, changelogs = _plan_edits(workspace, plan, changelog=changelog, tag=tag)
    files = tuple(edit.path for edit in edits)
    if not plan.touched:
        return VersionResult(plan, files, None, tuple(tags), False, dry_run)
    _write_with_hooks(workspace, plan, list(changelogs) if changelog else [], edits, dry_run)
    if dry_run:
        return VersionResult(plan, files, None, tuple(tags), False, dry_run)
    commit_id = commit_release(repo, plan, files) if commit and repo is not None else None
    if repo is not None:
        for name, members in tags.items():
            tag_release(repo, name, _notes(name, members, changelogs))
    pushed = False
    if push and repo is not None:
        push_release(repo, list(tags), branch=commit_id is not None)
        pushed = True
    return VersionResult(plan, files, commit_id, tuple(tags), pushed, dry_run)
