"""One writer at a time: an exclusive lock on the repository for commands that write.

``version``, ``changelog``, ``run``, ``build`` and ``lock`` hold an ``fcntl`` lock on
``.git/poetflow/lock`` for as long as they run. A second one fails at once (exit 2) and
changes nothing, naming the holder. The kernel drops the lock of a process that dies, so
a killed release never blocks the next one; its details, left in the file, are reported
as a stale lock that was taken over.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
from pathlib import Path
from types import TracebackType

from poetflow.errors import PoetFlowError

__all__ = ["ReleaseRunningError", "RepositoryLock", "lock_path"]

logger = logging.getLogger(__name__)


class ReleaseRunningError(PoetFlowError):
    """Another PoetFlow command holds the repository lock (exit 2, nothing changed)."""


def lock_path(root: Path) -> Path:
    """Where the lock of the repository holding ``root`` lives (outside the work tree)."""
    from poetflow.git import find_git_dir

    git_dir = find_git_dir(root.resolve())
    if git_dir is not None:
        return git_dir / "poetflow" / "lock"
    return root / ".poetflow" / "lock"  # no git: PoetFlow's own (git-ignored) folder


def _describe(holder: dict[str, object]) -> str:
    parts = [f"pid {holder.get('pid', '?')}"]
    if holder.get("command"):
        parts.append(f"`{holder['command']}`")
    if holder.get("started"):
        parts.append(f"started {holder['started']}")
    return ", ".join(parts)


def _read_holder(handle: int) -> dict[str, object]:
    os.lseek(handle, 0, os.SEEK_SET)
    raw = os.read(handle, 4096)
    try:
        data = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {"pid": "?"} if raw.strip() else {}
    return data if isinstance(data, dict) else {}


class RepositoryLock:
    """The exclusive lock, held from :meth:`acquire` until :meth:`release` (or exit)."""

    def __init__(self, path: Path, handle: int) -> None:
        self.path = path
        self._handle: int | None = handle

    @classmethod
    def acquire(cls, root: Path, command: str) -> RepositoryLock:
        """Take the lock or raise ReleaseRunningError at once; never waits."""
        import fcntl

        from poetflow.files import private_directory

        path = lock_path(root)
        if path.parent.name == ".poetflow":
            private_directory(path.parent)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = _read_holder(handle)
            os.close(handle)
            raise ReleaseRunningError(
                f"Another PoetFlow release is running in {root} ({_describe(holder)}); "
                "nothing was changed.",
                hint="Wait for it to finish, then run the command again.",
            ) from None
        previous = _read_holder(handle)
        if previous:
            logger.warning(
                "Took over a stale repository lock (%s), whose process is no longer "
                "running; the next step checks for a release it left unfinished.",
                _describe(previous),
            )
        started = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        record = json.dumps({"pid": os.getpid(), "command": command, "started": started})
        os.ftruncate(handle, 0)
        os.lseek(handle, 0, os.SEEK_SET)
        os.write(handle, record.encode("utf-8"))
        return cls(path, handle)

    def release(self) -> None:
        """Drop the lock; the file is emptied first so nobody reports it as stale."""
        import fcntl

        if self._handle is None:
            return
        handle, self._handle = self._handle, None
        with contextlib.suppress(OSError):
            os.ftruncate(handle, 0)
            fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)

    def __enter__(self) -> RepositoryLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
