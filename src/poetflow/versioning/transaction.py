"""A release as one transaction: validated first, journalled, then written, committed, tagged.

:func:`validate` checks everything that could stop the release half-way before anything
is written: tag names are valid refs and free, every file resolves inside the workspace
root (symlinks followed), every file can be written. :class:`Transaction` then writes the
journal (:mod:`poetflow.versioning.journal`), the files, the commit and the tags, moving
the journal's phase on at each step; :func:`rollback` puts every file back from the
journal. ``poetflow run`` uses the same object to undo its writes when a later local
stage fails, so there is one way back, whoever needs it.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from poetflow.errors import GitError, PoetFlowError, VersionWriteError
from poetflow.failpoints import failpoint
from poetflow.files import atomic_write_text
from poetflow.versioning.journal import (
    Journal,
    JournalFile,
    JournalTag,
    read_journal,
    remove_journal,
    write_journal,
)

if TYPE_CHECKING:
    from poetflow.git import Repository
    from poetflow.lockfile.release import DeferredLock
    from poetflow.versioning.edits import FileEdit

__all__ = [
    "OutsideRootError",
    "PlannedRelease",
    "Transaction",
    "UnwritableFileError",
    "VersionWriteError",
    "pending_journal",
    "rollback",
    "validate",
    "write_journalled",
]

logger = logging.getLogger(__name__)


class OutsideRootError(PoetFlowError):
    """A file a release would write resolves outside the workspace root (exit 2)."""


class UnwritableFileError(PoetFlowError):
    """A file a release would write cannot be written (exit 2, found before writing)."""


@dataclass(frozen=True)
class PlannedRelease:
    """Everything one release writes and creates, computed before anything is written.

    ``commit_message`` None: no commit; ``keep_written``: files stay when the release is
    interrupted with no commit planned; ``deferred``: locks relocked after publishing.
    """

    root: Path
    edits: tuple[FileEdit, ...]
    commit_message: str | None
    tags: tuple[JournalTag, ...]
    keep_written: bool
    deferred: tuple[DeferredLock, ...] = ()

    @property
    def files(self) -> tuple[Path, ...]:
        return tuple(edit.path for edit in self.edits)


def _inside(path: Path, root: Path) -> bool:
    return Path(os.path.realpath(path)).is_relative_to(Path(os.path.realpath(root)))


def _writable(path: Path) -> str | None:
    """Why ``path`` cannot be replaced (written to a temporary file beside it, renamed)."""
    if path.is_dir():
        return "it is a folder"
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"its folder {folder} is not writable"
    if path.exists() and not os.access(path, os.W_OK):
        return "it is read-only"
    return None


def validate(planned: PlannedRelease, repo: Repository | None) -> None:
    """Refuse (exit 2, nothing written) what would make the release stop half-way."""
    from poetflow.git import ref_name_problem

    for edit in planned.edits:
        if not _inside(edit.path, planned.root):
            raise OutsideRootError(
                f"{edit.path} resolves to {os.path.realpath(edit.path)}, outside the "
                f"repository {planned.root}; PoetFlow writes nothing outside it, so nothing "
                "was changed.",
                hint="Replace the symlink with a file, or fix the path in "
                "[tool.poetflow] (version-files).",
            )
        problem = _writable(edit.path)
        if problem:
            raise UnwritableFileError(
                f"Cannot write {edit.path}: {problem}; nothing was changed.",
                hint="Fix the file or folder, then run the command again.",
            )
    for tag in planned.tags:
        problem = ref_name_problem(tag.name)
        if problem:
            raise GitError(
                f"The release tag {tag.name!r} is not a valid git tag name ({problem}); "
                "nothing was changed.",
                hint="Fix tool.poetflow.tag-format.",
            )
    if repo is not None and planned.tags:
        existing = {t.name for t in repo.tags()}
        clash = sorted({t.name for t in planned.tags} & existing)
        if clash:
            raise GitError(
                f"The tag {clash[0]!r} already exists in {repo.workdir}; nothing was changed.",
                hint="Bump to a different version or delete the tag.",
            )


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _temporary_files(path: Path) -> list[Path]:
    """What an interrupted atomic write of ``path`` leaves behind (see poetflow.files)."""
    if not path.parent.is_dir():
        return []
    return list(path.parent.glob(f".{path.name}.*.tmp"))


class Transaction:
    """One release being written: journal first, then files, commit and tags."""

    def __init__(self, repo: Repository, planned: PlannedRelease, command: str) -> None:
        import pygit2

        self.repo = repo
        self.planned = planned
        head = repo.head_commit()
        files = []
        for edit in planned.edits:
            old = repo.store_blob(edit.old.encode("utf-8")) if edit.old is not None else None
            new = str(pygit2.hash(edit.new.encode("utf-8")))
            files.append(JournalFile(self._relative(edit.path), old, new))
        self.journal = Journal(
            command=command,
            pid=os.getpid(),
            started=_now(),
            head=head[0] if head else None,
            commit_message=planned.commit_message,
            tags=planned.tags,
            files=tuple(files),
            keep_written=planned.keep_written,
            deferred=tuple(
                {"owner": d.owner, "relpath": d.relpath, "members": [list(m) for m in d.members]}
                for d in planned.deferred
            ),
        )
        self.commit_id: str | None = None
        self.open = False

    def _relative(self, path: Path) -> str:
        return Path(os.path.realpath(path)).relative_to(self.repo.workdir).as_posix()

    def _save(self, journal: Journal) -> None:
        self.journal = journal
        write_journal(self.repo.git_dir, journal)

    def write(self) -> None:
        """Journal, then every file; an OSError puts back what was written and raises."""
        try:
            self._save(self.journal.at("applying"))
        except OSError as exc:
            remove_journal(self.repo.git_dir)
            raise VersionWriteError(
                f"Cannot write the release journal in {self.repo.git_dir}: "
                f"{exc.strerror or exc}; nothing was changed.",
                hint="Fix the permissions or free space there and run the command again.",
            ) from exc
        self.open = True
        failpoint("release:journal")
        for edit in self.planned.edits:
            try:
                edit.path.parent.mkdir(parents=True, exist_ok=True)
                atomic_write_text(edit.path, edit.new)
            except OSError as exc:
                rollback(self.repo, self.journal)
                self.open = False
                raise VersionWriteError(
                    f"Cannot write {edit.path}: {exc.strerror or exc}; every file PoetFlow "
                    "had changed was restored.",
                    hint="Fix the file or folder permissions and run the command again.",
                ) from exc
            failpoint("release:write")
        self._save(self.journal.at("written"))
        failpoint("release:written")

    def commit(self) -> str | None:
        """The release commit of every file (None when none is planned)."""
        message = self.planned.commit_message
        if message is None:
            return None
        self.commit_id = self.repo.commit_paths(list(self.planned.files), message)
        failpoint("release:commit")
        self._save(self.journal.at("committed", commit=self.commit_id))
        return self.commit_id

    def tag(self) -> list[str]:
        """Every planned tag, on the release commit (or on HEAD without one)."""
        target = self.commit_id or "HEAD"
        made = []
        for tag in self.planned.tags:
            self.repo.create_tag(tag.name, tag.message or tag.name, target)
            made.append(tag.name)
            failpoint("release:tag")
        return made

    def finish(self) -> None:
        """The release is complete: drop the journal (or keep only its deferred locks)."""
        if not self.open:
            return
        if self.journal.deferred:
            self._save(self.journal.at("tagged"))
        else:
            remove_journal(self.repo.git_dir)
        self.open = False

    def abort(self) -> None:
        """Undo the writes (a later step failed): every file back, journal gone."""
        if not self.open:
            return
        rollback(self.repo, self.journal)
        self.open = False


def write_journalled(root: Path, edits: Sequence[FileEdit], command: str) -> None:
    """Write ``edits`` as a transaction of their own (no commit, no tags): ``poetflow
    changelog`` and friends, which write several files that belong together."""
    from poetflow.git import Repository

    changed = tuple(edit for edit in edits if edit.changes)
    if not changed:
        return
    planned = PlannedRelease(root, changed, None, (), keep_written=True)
    repo = Repository.open(root)
    validate(planned, repo)
    transaction = Transaction(repo, planned, command)
    transaction.write()
    transaction.finish()


def rollback(repo: Repository, journal: Journal) -> list[str]:
    """Put every file of ``journal`` back as it was, unstage it, drop the journal.

    Returns the paths that were changed back. The journal is removed last, so a kill in
    the middle of a rollback is finished by the next command.
    """
    restored: list[str] = []
    for item in journal.files:
        if restored:
            failpoint("release:rollback")
        path = repo.workdir / item.path
        for leftover in _temporary_files(path):
            leftover.unlink(missing_ok=True)
        current = path.read_bytes() if path.is_file() else None
        if item.old_blob is None:
            if current is not None:
                path.unlink()
                restored.append(item.path)
            continue
        old = repo.read_blob(item.old_blob)
        if current != old:
            path.parent.mkdir(parents=True, exist_ok=True)
            from poetflow.files import atomic_write_bytes

            atomic_write_bytes(path, old)
            restored.append(item.path)
    with contextlib.suppress(PoetFlowError, OSError):
        repo.reset_index_paths([item.path for item in journal.files])
    remove_journal(repo.git_dir)
    return restored


def pending_journal(repo: Repository) -> Journal | None:
    """The journal of an unfinished release in ``repo``, if there is one."""
    try:
        return read_journal(repo.git_dir)
    except (ValueError, KeyError, TypeError) as exc:
        raise GitError(
            f"{repo.git_dir / 'poetflow' / 'release.json'} is not a readable release "
            f"journal ({exc}).",
            hint="Check `git status` and `git log`, then delete that file.",
        ) from exc
