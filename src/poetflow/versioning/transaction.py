"""All files or none: write a set of edits and put every file back if one write fails."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Protocol

from poetflow.errors import VersionWriteError
from poetflow.files import atomic_write_text

__all__ = ["VersionWriteError", "write_all"]


class _Edit(Protocol):
    @property
    def path(self) -> object: ...
    @property
    def old(self) -> str | None: ...
    @property
    def new(self) -> str: ...


def write_all(edits: Sequence[_Edit]) -> None:
    """Write every edit; on the first failure restore what was written and raise."""
    from pathlib import Path

    done: list[_Edit] = []
    for edit in edits:
        path = Path(str(edit.path))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(path, edit.new)
        except OSError as exc:
            for written in reversed(done):
                target = Path(str(written.path))
                with contextlib.suppress(OSError):
                    if written.old is None:
                        target.unlink()
                    else:
                        atomic_write_text(target, written.old)
            raise VersionWriteError(
                f"Cannot write {path}: {exc.strerror or exc}; every file PoetFlow had changed "
                "was restored.",
                hint="Fix the file or folder permissions and run the command again.",
            ) from exc
        done.append(edit)
