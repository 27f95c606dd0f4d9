"""SOURCE_DATE_EPOCH per package: an explicit value, else its last commit time in git."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path

from poetflow.errors import UsageError
from poetflow.git import git_command

__all__ = ["CommitTimes", "environment_epoch"]

# One `git log` answers for every package at once; past this many commits the packages
# not yet seen fall back to a `git log -1` each (a deep history would be slow to list).
_BATCH_COMMITS = 2000


def environment_epoch() -> int | None:
    """``SOURCE_DATE_EPOCH`` from the environment; a non-integer is bad input."""
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw is None or not raw.strip():
        return None
    try:
        return int(raw.strip())
    except ValueError:
        raise UsageError(
            f"SOURCE_DATE_EPOCH is {raw!r}, not a number of seconds since 1970.",
            hint="Set it to an integer such as the output of `git log -1 --format=%ct`.",
        ) from None


class CommitTimes:
    """The time of the last commit touching each package folder.

    That is the default SOURCE_DATE_EPOCH: the same commit rebuilds byte-identical
    artifacts on any machine. Asked lazily, once per run, for every package at once.
    """

    def __init__(self, root: Path, relpaths: Sequence[str]) -> None:
        self._root = root
        self._relpaths = tuple(relpaths)
        self._lock = threading.Lock()
        self._times: dict[str, int] | None = None

    def get(self, relpath: str) -> int | None:
        """None outside git or for a folder no commit touches (poetry-core defaults)."""
        with self._lock:
            if self._times is None:
                self._times = self._batch()
        if relpath in self._times:
            return self._times[relpath]
        return self._single(relpath)

    def _git(self, args: list[str]) -> str | None:
        return git_command(args, self._root)

    def _batch(self) -> dict[str, int]:
        folders = [path for path in self._relpaths if path not in ("", ".")]
        if not folders:
            return {}
        output = self._git(
            [
                "log",
                f"--max-count={_BATCH_COMMITS}",
                "--format=%x00%ct",
                "--name-only",
                "--relative",
                "--no-renames",
                "--",
                *folders,
            ]
        )
        times: dict[str, int] = {}
        for block in (output or "").split("\0")[1:]:
            lines = [line for line in block.splitlines() if line.strip()]
            if not lines or not lines[0].strip().isdigit():
                continue
            stamp = int(lines[0].strip())
            for changed in lines[1:]:
                for folder in folders:
                    if folder not in times and changed.startswith(folder.rstrip("/") + "/"):
                        times[folder] = stamp  # newest first: the first hit is the last commit
            if len(times) == len(folders):
                break
        return times

    def _single(self, relpath: str) -> int | None:
        output = self._git(["log", "-1", "--format=%ct", "--", relpath or "."])
        text = (output or "").strip()
        return int(text) if text.isdigit() else None
