"""One command's hand-over to the CI system it runs in, in-process.

The CLI's ``main`` (and the container adapter around it) opens a :func:`ci_session`:
the CI system is detected once, every secret in the environment is registered, and
from then on each secret registered in :mod:`poetflow.masking` (a token minted by
trusted publishing included) is announced to the system's mask writer the moment it
is registered, before anything can print it. The command that builds a run report
hands it over with :func:`hand_over_report`; the container adapter hands a minimal
report over for a command that built none.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from poetflow.errors import EXIT_BAD_INPUT, PoetFlowError

if TYPE_CHECKING:
    from poetflow.ci.system import CiSystem
    from poetflow.report import RunReport, RunStatus

__all__ = [
    "CiSession",
    "active_system",
    "ci_session",
    "hand_over_report",
    "minimal_report",
]

logger = logging.getLogger("poetflow.ci")

# The open session (at most one: nested sessions are the outer one).
_open: list[CiSession] = []


class CiSession:
    """The CI system of one command, its masks and the report handed to it.

    Workflow commands go to stderr, resolved when written (the container adapter and
    test harnesses replace it): CI runners read commands from both streams, and
    stdout is the command's own (a JSON document, a job matrix read by ``$(...)``).
    """

    def __init__(self, system: CiSystem) -> None:
        self.system = system
        self.report: RunReport | None = None
        self._announced: set[str] = set()
        self._lock = threading.Lock()

    def announce(self, secret: str) -> None:
        """Have the CI system mask ``secret`` (each line once: tokens are minted in threads)."""
        with self._lock:
            commands = [c for c in self.system.mask_commands(secret) if c not in self._announced]
            if not commands:
                return
            self._announced.update(commands)
            sys.stderr.write("".join(command + "\n" for command in commands))
            sys.stderr.flush()

    def hand_over(
        self,
        report: RunReport,
        report_dir: Path,
        report_file: Path | None = None,
        errors: Sequence[str] = (),
    ) -> None:
        """Give ``report`` to the CI system; a failure here never changes the outcome."""
        from poetflow.ci.system import HandOver

        self.report = report
        sys.stdout.flush()
        try:
            self.system.hand_over(
                HandOver(report, report_dir, report_file, tuple(errors)), sys.stderr
            )
        except (OSError, ValueError, PoetFlowError) as exc:
            # Unwritable runner files or a value the system cannot carry: the command's
            # own outcome stands, and its report file is still in the report folder.
            logger.warning("Could not hand the results to %s: %s", self.system.title, exc)
        sys.stderr.flush()


@contextmanager
def ci_session(
    env: Mapping[str, str] | None = None, argv: Sequence[str] = ()
) -> Iterator[CiSession]:
    """Detect the CI system of ``env`` and announce every secret to it while the block
    runs: those of ``env`` and the URL passwords in ``argv`` and ``env``. Nested sessions
    (the CLI inside the container adapter) are the outer one."""
    if _open:
        from poetflow.masking import register_process_secrets

        register_process_secrets(argv, os.environ if env is None else env)
        yield _open[0]
        return
    from poetflow.ci.registry import detect_system
    from poetflow.masking import on_secret, register_process_secrets

    env = os.environ if env is None else env
    session = CiSession(detect_system(env))
    unsubscribe = on_secret(session.announce)
    _open.append(session)
    try:
        register_process_secrets(argv, env)
        yield session
    finally:
        _open.remove(session)
        unsubscribe()


def _session() -> CiSession:
    if _open:
        return _open[0]
    from poetflow.ci.registry import detect_system

    return CiSession(detect_system(os.environ))


def active_system() -> CiSystem:
    """The CI system of the open session, else of this process's environment."""
    return _session().system


def hand_over_report(report: RunReport, report_dir: Path, report_file: Path | None) -> None:
    """Hand the report of the command that built it to the CI system (called once per
    command, by ``cli.reporting.finish_command``)."""
    _session().hand_over(report, report_dir, report_file)


def minimal_report(
    command: str,
    exit_code: int,
    *,
    duration: float,
    dry_run: bool,
    errors: Sequence[str] = (),
) -> RunReport:
    """The report of a command that built none: what ran, how it ended, and why there
    is nothing more (it does no work on packages, or it stopped before it had a report)."""
    from poetflow.report import RunReport

    status: RunStatus
    if exit_code == EXIT_BAD_INPUT and errors:
        note = f"It stopped before it had a report: {errors[0]}"
        status = "error"
    elif exit_code == EXIT_BAD_INPUT:
        note = "It stopped before it had a report."
        status = "error"
    else:
        note = "This command writes no run report of its own: it works on no package."
        status = "succeeded" if exit_code == 0 else "failed"
    return RunReport(
        command=command,
        status=status,
        exit_code=exit_code,
        dry_run=dry_run,
        duration=duration,
        ci=active_system().report_fields(),
        note=note,
    )
