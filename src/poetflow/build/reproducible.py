"""SOURCE_DATE_EPOCH for a package: explicit value, else its last commit time in git."""

from __future__ import annotations

import os
from pathlib import Path

from poetflow.errors import UsageError
from poetflow.process import CommandNotFoundError, run_process

__all__ = ["environment_epoch", "source_date_epoch"]


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


def source_date_epoch(package_dir: Path, explicit: int | None) -> int | None:
    """``explicit`` when given; else the commit time of the last commit touching
    ``package_dir`` (so a rebuild of the same commit is byte-identical anywhere);
    None outside git (poetry-core then uses its fixed defaults)."""
    if explicit is not None:
        return explicit
    try:
        result = run_process(
            ["git", "log", "-1", "--format=%ct", "--", "."], cwd=package_dir, timeout=60
        )
    except CommandNotFoundError:
        return None
    text = result.output.strip()
    if not result.ok or not text.isdigit():
        return None
    return int(text)
