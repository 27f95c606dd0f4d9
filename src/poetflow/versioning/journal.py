"""The release journal: ``.git/poetflow/release.json``, written before a release touches a file.

It holds what the release is about to do — every file with the git blob of its old content
(kept in the object database, so a rollback needs nothing else) and the id of its new
content, the commit message and the HEAD it goes on, the tags — and which step it reached.
Any PoetFlow command that finds it finishes the release when its commit exists, or puts
every file back when it does not (see :mod:`poetflow.versioning.recovery`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from poetflow.files import atomic_write_text

__all__ = ["JOURNAL_SCHEMA", "Journal", "JournalFile", "JournalTag", "Phase", "journal_path"]

JOURNAL_SCHEMA = "poetflow-release-journal/1"
# prepared: nothing written yet; applying: files being written; written: every file has
# its new content; committed: the release commit exists; tagged: every tag exists, only
# deferred locks remain (relocked after publishing).
Phase = Literal["prepared", "applying", "written", "committed", "tagged"]


@dataclass(frozen=True)
class JournalFile:
    """A file of the release: ``old_blob`` None when the release creates it."""

    path: str  # relative to the work tree, POSIX
    old_blob: str | None
    new_blob: str


@dataclass(frozen=True)
class JournalTag:
    name: str
    message: str


@dataclass(frozen=True)
class Journal:
    """One release in flight. ``keep_written``: without a planned commit, files that were
    all written stay (``version bump`` without ``--commit``); otherwise they go back."""

    command: str
    pid: int
    started: str
    head: str | None
    commit_message: str | None
    tags: tuple[JournalTag, ...]
    files: tuple[JournalFile, ...]
    keep_written: bool
    phase: Phase = "prepared"
    commit: str | None = None
    deferred: tuple[dict[str, Any], ...] = field(default=())

    def at(self, phase: Phase, **changes: Any) -> Journal:
        return replace(self, phase=phase, **changes)

    def to_json(self) -> str:
        return json.dumps(
            {
                "schema": JOURNAL_SCHEMA,
                "command": self.command,
                "pid": self.pid,
                "started": self.started,
                "phase": self.phase,
                "head": self.head,
                "commit_message": self.commit_message,
                "commit": self.commit,
                "keep_written": self.keep_written,
                "tags": [{"name": t.name, "message": t.message} for t in self.tags],
                "files": [
                    {"path": f.path, "old_blob": f.old_blob, "new_blob": f.new_blob}
                    for f in self.files
                ],
                "deferred": list(self.deferred),
            },
            indent=1,
        )

    @classmethod
    def from_json(cls, text: str) -> Journal:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("schema") != JOURNAL_SCHEMA:
            raise ValueError("not a PoetFlow release journal")
        return cls(
            command=str(data["command"]),
            pid=int(data["pid"]),
            started=str(data["started"]),
            head=data["head"],
            commit_message=data["commit_message"],
            tags=tuple(JournalTag(str(t["name"]), str(t["message"])) for t in data["tags"]),
            files=tuple(
                JournalFile(str(f["path"]), f["old_blob"], str(f["new_blob"]))
                for f in data["files"]
            ),
            keep_written=bool(data["keep_written"]),
            phase=data["phase"],
            commit=data.get("commit"),
            deferred=tuple(data.get("deferred") or ()),
        )


def journal_path(git_dir: Path) -> Path:
    return git_dir / "poetflow" / "release.json"


def write_journal(git_dir: Path, journal: Journal) -> None:
    """Write the journal durably: it must be on disk before the first file changes."""
    path = journal_path(git_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, journal.to_json() + "\n")
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_journal(git_dir: Path) -> Journal | None:
    path = journal_path(git_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return Journal.from_json(text)


def remove_journal(git_dir: Path) -> None:
    journal_path(git_dir).unlink(missing_ok=True)
