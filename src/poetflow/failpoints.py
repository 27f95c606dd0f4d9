"""Named points where a release can be made to die, to prove it survives a real kill -9.

``POETFLOW_FAILPOINT=NAME[@N]`` makes the process SIGKILL itself the N-th time (default:
the first) it passes the point NAME. Nothing is faked: the process dies the way an OOM
kill or a cancelled CI job kills it, mid-transaction, and the next command has to find
the journal and finish or undo the release. Unset (always, outside such tests), a
failpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import threading

__all__ = ["FAILPOINT_VARIABLE", "failpoint"]

FAILPOINT_VARIABLE = "POETFLOW_FAILPOINT"
_hits: dict[str, int] = {}
_lock = threading.Lock()


def failpoint(name: str) -> None:
    """Die here if ``POETFLOW_FAILPOINT`` names this point (and this is the N-th pass)."""
    wanted = os.environ.get(FAILPOINT_VARIABLE)
    if not wanted:
        return
    point, _, count = wanted.partition("@")
    if point != name:
        return
    with _lock:
        _hits[name] = _hits.get(name, 0) + 1
        hit = _hits[name]
    if hit == (int(count) if count.isdigit() else 1):
        os.kill(os.getpid(), signal.SIGKILL)
