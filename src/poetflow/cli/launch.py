"""The console script: what a command will need starts first, then the command line loads.

Loading the command line (typer, click, the commands) takes about a fifth of a second.
A build that forks worker processes would only then fork their template, which spends
a third of a second more warming poetry-core up (see :mod:`poetflow.build.template`).
Forked here instead, before anything is loaded, the template warms up on the second
core while this process loads the command line and reads the workspace.

Whether the command line asks for such a build is guessed from the words alone; the
build command decides for itself and takes the template only when it was forked for as
many jobs. A wrong guess costs the other core a warm-up, or the head start: never
anything else.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

__all__ = ["main", "parallel_build_jobs"]

# Global options that take a value (see poetflow.cli.options): the word after them is
# not the command.
_GLOBAL_VALUE_OPTIONS = frozenset({"--root", "--log-level", "--log-format"})
_NOT_BUILDING = frozenset({"--dry-run", "-h", "--help", "--version"})
_FALSE_WORDS = frozenset({"", "0", "false", "no", "off", "n", "f"})


def main() -> None:
    """Run ``poetflow``: the console script and ``python -m poetflow``."""
    jobs = parallel_build_jobs(sys.argv[1:], os.environ)
    if jobs is not None:
        from poetflow.build.template import WorkerTemplate

        WorkerTemplate.prestart(jobs)
    from poetflow.cli.app import main as run

    try:
        run()
    finally:
        if jobs is not None:
            from poetflow.build.template import WorkerTemplate

            WorkerTemplate.discard_prestarted()


def parallel_build_jobs(args: list[str], environ: Mapping[str, str]) -> int | None:
    """The jobs of the ``poetflow build`` these words run, when it builds in parallel
    with poetry-core; None for any other command (or words this cannot read)."""
    command_at = _command_index(args)
    if command_at is None or args[command_at] != "build":
        return None
    rest = args[command_at + 1 :]
    if any(word in _NOT_BUILDING for word in args):
        return None
    if environ.get("POETFLOW_DRY_RUN", "").strip().lower() not in _FALSE_WORDS:
        return None
    builder = _value_of(rest, "--builder", None) or environ.get("POETFLOW_BUILDER", "core")
    if builder != "core":
        return None
    jobs_text = _value_of(rest, "--jobs", "-j") or environ.get("POETFLOW_JOBS")
    if jobs_text is None:
        from poetflow.build.template import available_cores

        jobs = available_cores()
    else:
        try:
            jobs = int(jobs_text)
        except ValueError:
            return None
    return jobs if jobs > 1 else None


def _command_index(args: list[str]) -> int | None:
    index = 0
    while index < len(args):
        word = args[index]
        if not word.startswith("-"):
            return index
        if word in _GLOBAL_VALUE_OPTIONS:
            index += 1
        index += 1
    return None


def _value_of(args: list[str], long: str, short: str | None) -> str | None:
    """The last value given to an option (``--jobs 2``, ``--jobs=2``, ``-j 2``, ``-j2``)."""
    value = None
    for index, word in enumerate(args):
        if word in (long, short) and index + 1 < len(args):
            value = args[index + 1]
        elif word.startswith(long + "="):
            value = word[len(long) + 1 :]
        elif short is not None and word.startswith(short) and len(word) > len(short):
            value = word[len(short) :]
    return value
