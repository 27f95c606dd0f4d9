"""Finishing or undoing a release that was interrupted (killed, crashed, power lost).

Every PoetFlow command calls :func:`recover` before it reads the workspace. With no
journal that costs one ``stat``. With one, the rule is simple and never releases twice:
when the release commit exists the release happened, so the missing tags are added; when
it does not, every file goes back to its old content and the command plans afresh from
the same history — the same versions, released once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from poetflow.errors import GitError
from poetflow.versioning.journal import Journal, journal_path, remove_journal, write_journal

__all__ = ["Recovery", "journal_exists", "recover"]

logger = logging.getLogger(__name__)

Action = Literal["completed", "rolled back", "waiting"]


@dataclass(frozen=True)
class Recovery:
    """What was done (or, under ``dry_run``, would be done) about an unfinished release."""

    action: Action
    message: str
    dry_run: bool = False


def journal_exists(root: Path) -> bool:
    from poetflow.git import find_git_dir

    git_dir = find_git_dir(root.resolve())
    return git_dir is not None and journal_path(git_dir).is_file()


def _who(journal: Journal) -> str:
    return f"`{journal.command}`, pid {journal.pid}, started {journal.started}"


def _release_commit(repo: object, journal: Journal) -> str | None:
    """The release commit of ``journal`` if it was made, else None."""
    from poetflow.git import Repository

    assert isinstance(repo, Repository)
    if journal.commit_message is None:
        return None
    if journal.commit is not None:
        return journal.commit
    head = repo.head_commit()
    if head is None:
        return None
    commit, parents, message = head
    expected_parents = (journal.head,) if journal.head else ()
    if parents[:1] == expected_parents[:1] and message.strip() == journal.commit_message.strip():
        return commit if commit != journal.head else None
    return None


def _complete_tags(repo: object, journal: Journal, target: str) -> list[str]:
    from poetflow.git import Repository

    assert isinstance(repo, Repository)
    added = []
    for tag in journal.tags:
        current = repo.tag_commit(tag.name)
        if current is None:
            repo.create_tag(tag.name, tag.message or tag.name, target)
            added.append(tag.name)
        elif current != target:
            raise GitError(
                f"The interrupted release ({_who(journal)}) was committed as {target[:12]}, "
                f"but its tag {tag.name!r} points at {current[:12]}.",
                hint=f"Move or delete that tag, then delete {journal_path(repo.git_dir)}.",
            )
    return added


def recover(root: Path, *, dry_run: bool = False) -> Recovery | None:
    """Finish or undo the release a journal describes; None when there is no journal.

    The caller holds the repository lock (no other release can be running).
    """
    if not journal_exists(root):
        return None
    from poetflow.git import Repository
    from poetflow.versioning.transaction import pending_journal, rollback

    repo = Repository.open(root)
    journal = pending_journal(repo)
    if journal is None:
        return None
    who = _who(journal)
    if journal.phase == "tagged":
        waiting = ", ".join(f"{d['relpath'] or '.'}/poetry.lock" for d in journal.deferred)
        return Recovery(
            "waiting",
            f"The release of {who} is committed and tagged; {waiting} is relocked once the "
            "released members are on the index (the lock stage of `poetflow run`, or "
            "`poetflow lock` after publishing).",
            dry_run,
        )
    commit = _release_commit(repo, journal)
    head = repo.head_commit()
    if commit is not None or (
        journal.commit_message is None and journal.phase == "written" and journal.keep_written
    ):
        target = commit or (head[0] if head else None)
        if target is None:
            raise GitError(f"{repo.workdir} has no commit to tag for the release of {who}.")
        if dry_run:
            return Recovery(
                "completed", f"An interrupted release ({who}) would be completed.", True
            )
        added = _complete_tags(repo, journal, target)
        if journal.deferred:
            write_journal(repo.git_dir, journal.at("tagged", commit=target))
        else:
            remove_journal(repo.git_dir)
        tags = f"added its missing tags {', '.join(added)}" if added else "its tags were there"
        return Recovery(
            "completed",
            f"Completed an interrupted release ({who}): its commit {target[:12]} exists; {tags}.",
        )
    if journal.commit_message is not None and (head[0] if head else None) != journal.head:
        raise GitError(
            f"An interrupted release ({who}) was to be committed on {str(journal.head)[:12]}, "
            "but HEAD has moved elsewhere since, so PoetFlow cannot tell what happened.",
            hint=f"Check `git log` and `git status`, then delete {journal_path(repo.git_dir)}.",
        )
    if dry_run:
        return Recovery(
            "rolled back", f"An interrupted release ({who}) would be rolled back.", True
        )
    restored = rollback(repo, journal)
    return Recovery(
        "rolled back",
        f"Rolled back an interrupted release ({who}): it had not been committed, so "
        f"{len(restored)} files were put back as they were.",
    )
