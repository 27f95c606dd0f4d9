"""Writing files so that a reader (a hook, a CI step, the next run) never sees half of one."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["atomic_copy", "atomic_write_bytes", "atomic_write_text", "private_directory"]


def atomic_write_bytes(path: Path, data: bytes, *, keep_mode: bool = True) -> None:
    """Replace ``path`` with ``data``: a temporary file in the same folder, then a rename.

    ``keep_mode`` carries the permissions of the file being replaced over (an executable
    version file stays executable).
    """
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if keep_mode and path.exists():
            os.chmod(temporary, path.stat().st_mode & 0o7777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str, *, keep_mode: bool = True) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text, newlines written as given."""
    atomic_write_bytes(path, text.encode("utf-8"), keep_mode=keep_mode)


def atomic_copy(source: Path, target: Path) -> None:
    """Copy ``source`` over ``target`` through a temporary file beside ``target``."""
    fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        shutil.copyfile(source, temporary)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def private_directory(path: Path) -> Path:
    """Create ``path`` (PoetFlow's own folder: reports, caches, environments) with a
    ``.gitignore`` that keeps all of it out of git, so it never shows as untracked."""
    path.mkdir(parents=True, exist_ok=True)
    ignore = path / ".gitignore"
    if not ignore.exists():
        atomic_write_text(ignore, "# Created by PoetFlow: reports, caches and results.\n*\n")
    return path
