"""Applying a version plan as one transaction: versions, constraints, locks, version files
and changelogs planned and validated first, then journalled, written, committed, tagged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poetflow.errors import GitError
from poetflow.versioning.edits import ConstraintChange, FileEdit, package_edits
from poetflow.versioning.journal import JournalTag
from poetflow.versioning.plan import VersionPlan
from poetflow.versioning.transaction import PlannedRelease, Transaction, validate

if TYPE_CHECKING:
    from poetflow.changelog.model import PackageChangelog
    from poetflow.git import Repository
    from poetflow.lockfile.release import DeferredLock
    from poetflow.workspace import Workspace

__all__ = [
    "PreparedRelease",
    "VersionResult",
    "apply_plan",
    "prepare_release",
    "push_release",
    "release_commit_message",
    "release_tags",
    "write_release",
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
    locks: tuple[Path, ...] = ()
    deferred: tuple[DeferredLock, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.plan.to_dict(),
            "files": [str(path) for path in self.files],
            "locks": [str(path) for path in self.locks],
            "deferred_locks": [
                {"package": d.owner, "path": d.relpath, "members": dict(d.members)}
                for d in self.deferred
            ],
            "commit": self.commit,
            "tags": list(self.tags),
            "pushed": self.pushed,
            "dry_run": self.dry_run,
        }


@dataclass(frozen=True)
class PreparedRelease:
    """A release planned to the last byte and validated; nothing is written yet."""

    plan: VersionPlan
    planned: PlannedRelease
    changelogs: Mapping[str, PackageChangelog] = field(default_factory=dict)
    changelog_packages: tuple[str, ...] = ()
    locks: tuple[Path, ...] = ()

    @property
    def files(self) -> tuple[Path, ...]:
        return self.planned.files

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(tag.name for tag in self.planned.tags)


def release_tags(plan: VersionPlan) -> dict[str, list[str]]:
    """Tag name -> the packages it releases (one shared tag under synchronized versioning)."""
    tags: dict[str, list[str]] = {}
    for entry in plan.releases:
        if entry.tag:
            tags.setdefault(entry.tag, []).append(entry.name)
    return tags


# Beyond this many releases the subject names a count, not every package: a subject is
# read in one line (git log --oneline, a pull request list), the body has the list.
SUBJECT_PACKAGES = 3


def release_commit_message(plan: VersionPlan) -> str:
    """The release commit's message: a short subject, then every new version, one a line."""
    if len(plan.releases) > SUBJECT_PACKAGES:
        versions = f"{len(plan.releases)} packages"
    else:
        versions = ", ".join(f"{e.name} {e.next}" for e in plan.releases)
    subject = plan.settings.commit_message.format(versions=versions or "constraints")
    body = "\n".join(f"- {e.name}: {e.current} -> {e.next}" for e in plan.releases)
    return f"{subject}\n\n{body}\n" if body else subject


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


def _deferred_error(deferred: Sequence[DeferredLock]) -> Exception:
    from poetflow.lockfile.release import LockError

    first = deferred[0]
    member, version = first.members[0]
    return LockError(
        f"{first.describe()}, where {member} {version} is not published yet, so this "
        "release cannot leave that lock fresh; nothing was changed.",
        hint=f"Release with `poetflow run`: it relocks {first.owner or 'it'} once {member} "
        f"{version} is published. Or give {first.owner or 'that project'} a path dependency "
        f"on {member} in a dependency group, so that its lock follows the work tree.",
    )


def prepare_release(
    workspace: Workspace,
    plan: VersionPlan,
    *,
    changelog: bool,
    commit: bool,
    tag: bool,
    keep_written: bool = True,
    defer_locks: bool = False,
    repo: Repository | None = None,
) -> PreparedRelease:
    """Every file edit (pyproject, locks, version files, changelogs), the commit message
    and the tags of ``plan``, validated; raises (exit 2) before anything is written.

    ``defer_locks``: a lock that resolves a released member from an index is left for a
    relock after publishing (``poetflow run``); otherwise it stops the release.
    """
    from poetflow.lockfile.release import plan_lock_edits

    mode = plan.settings.dependents_constraint
    edits: list[FileEdit] = []
    changes: dict[str, tuple[ConstraintChange, ...]] = {}
    pyprojects: dict[str, str] = {}
    for entry in plan.touched:
        package = workspace.by_name[entry.name]
        package_files, moved = package_edits(package, entry, mode)
        edits.extend(package_files)
        if moved:
            changes[entry.name] = moved
        for edit in package_files:
            if edit.path == package.pyproject:
                pyprojects[entry.name] = edit.new
    versions = {e.name: e.next for e in plan.releases if e.next is not None}
    locks = plan_lock_edits(workspace, versions, changes, pyprojects) if plan.touched else None
    if locks is not None:
        if locks.deferred and not defer_locks:
            raise _deferred_error(locks.deferred)
        edits.extend(FileEdit(path, old, new) for path, old, new in locks.edits)
    changelogs: dict[str, PackageChangelog] = {}
    if (changelog or tag) and plan.releases:
        from poetflow.changelog.engine import changelog_edits

        # Tag messages are the changelog sections, so they are built for --tag alone too.
        released = [workspace.by_name[entry.name] for entry in plan.releases]
        changelogs, changelog_files = changelog_edits(workspace, released, plan=plan)
        if changelog:
            edits.extend(changelog_files)
    tags = (
        tuple(
            JournalTag(name, _notes(name, members, changelogs))
            for name, members in release_tags(plan).items()
        )
        if tag
        else ()
    )
    planned = PlannedRelease(
        root=workspace.root,
        edits=tuple(edits),
        commit_message=release_commit_message(plan) if commit and plan.touched else None,
        tags=tags,
        keep_written=keep_written,
        deferred=locks.deferred if locks is not None else (),
    )
    validate(planned, repo)
    return PreparedRelease(
        plan,
        planned,
        changelogs,
        tuple(changelogs) if changelog else (),
        tuple(path for path, _old, _new in (locks.edits if locks else ())),
    )


def write_release(
    workspace: Workspace,
    prepared: PreparedRelease,
    repo: Repository,
    *,
    command: str,
    dry_run: bool,
) -> Transaction | None:
    """Write the files of ``prepared`` between the pre-/post-version hooks (and the
    -changelog ones when changelogs are written too); a failing pre-hook leaves every
    file untouched, a failing post-hook puts them back. Returns the open transaction."""
    from poetflow.hooks.stage import StageHooks

    plan = prepared.plan
    touched = [workspace.by_name[entry.name] for entry in plan.touched]
    released = [workspace.by_name[name] for name in prepared.changelog_packages]
    versions = {entry.name: (entry.current, entry.next) for entry in plan.touched}
    version_hooks = StageHooks(workspace, "version", touched, dry_run=dry_run)
    changelog_hooks = StageHooks(workspace, "changelog", released, dry_run=dry_run)
    transaction = None if dry_run else Transaction(repo, prepared.planned, command)

    def write() -> None:
        if transaction is not None:
            transaction.write()

    def inner() -> None:
        changelog_hooks.run_together(released, write, versions=versions)

    try:
        version_hooks.run_together(touched, inner, versions=versions)
    except BaseException:
        if transaction is not None:
            transaction.abort()
        raise
    return transaction


def apply_plan(
    workspace: Workspace,
    plan: VersionPlan,
    *,
    changelog: bool = True,
    commit: bool = False,
    tag: bool = False,
    push: bool = False,
    dry_run: bool = False,
    command: str = "poetflow version",
) -> VersionResult:
    """Write the plan in one transaction — versions, constraints, locks, version files and
    changelogs — then optionally commit, tag (annotated, notes as message) and push.

    Everything is checked before anything is written, so a refusal changes nothing and
    ``dry_run`` fails exactly where the real run would.
    """
    from poetflow.git import Repository

    repo = Repository.open(workspace.root)
    prepared = prepare_release(
        workspace, plan, changelog=changelog, commit=commit, tag=tag, repo=repo
    )
    result = VersionResult(
        plan, prepared.files, None, prepared.tags, False, dry_run, prepared.locks
    )
    if not plan.touched:
        return result
    transaction = write_release(workspace, prepared, repo, command=command, dry_run=dry_run)
    if transaction is None:
        return result
    commit_id = transaction.commit()
    tags = transaction.tag()
    transaction.finish()
    pushed = False
    if push:
        push_release(repo, tags, branch=commit_id is not None)
        pushed = True
    return VersionResult(
        plan, prepared.files, commit_id, tuple(tags), pushed, dry_run, prepared.locks
    )
