"""Before a command reads the workspace: the repository lock, and unfinished releases.

Commands that write hold the repository lock for their whole run (released when the
command ends, even in-process). Every command, writing or not, first finishes or undoes
a release that a killed PoetFlow left behind, and says which it did; a read-only command
that finds another release running leaves its journal alone.
"""

from __future__ import annotations

import logging
from pathlib import Path

__all__ = ["guard_root"]

logger = logging.getLogger("poetflow")


def _hold(lock: object) -> None:
    """Release ``lock`` when the current click command ends (or at exit without one)."""
    import atexit

    from click import get_current_context

    from poetflow.repository_lock import RepositoryLock

    assert isinstance(lock, RepositoryLock)
    ctx = get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(lock.release)
    else:
        atexit.register(lock.release)


def guard_root(root: Path, *, writes: str | None, dry_run: bool) -> None:
    """``writes``: the command's name when it writes (it then holds the lock)."""
    from poetflow.repository_lock import ReleaseRunningError, RepositoryLock
    from poetflow.versioning.recovery import journal_exists, recover

    lock = None
    if writes is not None and not dry_run:
        lock = RepositoryLock.acquire(root, writes)
        _hold(lock)
    if not journal_exists(root):
        return
    if lock is None and not dry_run:
        try:
            lock = RepositoryLock.acquire(root, "poetflow (recovering a release)")
        except ReleaseRunningError:
            logger.info("A release is in progress in %s; reading the workspace as it is.", root)
            return
        _hold(lock)
    recovery = recover(root, dry_run=dry_run)
    if recovery is None:
        return
    if recovery.dry_run:
        logger.warning("%s Run a command without --dry-run to do it.", recovery.message)
    elif recovery.action == "waiting":
        logger.info("%s", recovery.message)
    else:
        logger.warning("%s", recovery.message)
