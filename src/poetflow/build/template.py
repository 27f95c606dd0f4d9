"""The build workers' template: a process forked as a build command starts, which warms
poetry-core up while this process reads the workspace, then forks the workers from itself.

Warming poetry-core up (see :func:`poetflow.build.workers.warm_up`) takes about a third
of a second. Without a template this process does it between reading the workspace and
forking the workers, while the second core idles. The template does it on that core in
the meantime; the workers it forks inherit poetry-core warm, and this process never loads
the builders at all.

Only a process running a single thread forks safely (a fork could copy a lock another
thread holds), and only where there is ``fork``: elsewhere :meth:`WorkerTemplate.start`
gives None and the workers start from this process, as without a template.

The pipes to the workers are made here before the template is forked, so each worker
talks to this process directly; the template only forks them, tells their pids, and
reaps them at the end.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from poetflow.workspace import Workspace

__all__ = ["WorkerTemplate", "available_cores"]

logger = logging.getLogger(__name__)

# How long the template may take to go once told to (it may be in its warm-up).
_STOP_SECONDS = 5.0
# Forked by the console script before it loaded the command line (see poetflow.cli.launch),
# for the build command to take.
_prestarted: list[WorkerTemplate] = []


def available_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - platforms without affinity
        return os.cpu_count() or 1


class WorkerTemplate:
    """A warming-up process that forks ``jobs`` build workers once :meth:`fork_workers`
    hands it the workspace. Close it in any case: :meth:`close` ends it (and stops a
    warm-up nobody needs)."""

    def __init__(self, process: Any, control: Connection, pipes: list[Connection]) -> None:
        self._process = process
        self._control = control
        self._pipes = pipes  # this process's ends, one per worker
        self._lock = threading.Lock()
        self._forked = False
        self._closed = False

    @property
    def jobs(self) -> int:
        return len(self._pipes)

    @classmethod
    def start(cls, jobs: int) -> WorkerTemplate | None:
        """Fork the template for ``jobs`` workers; None where forking is not safe here."""
        if jobs < 2 or threading.active_count() != 1 or not sys.platform.startswith("linux"):
            return None
        import multiprocessing

        try:
            context = multiprocessing.get_context("fork")
            control, control_end = context.Pipe()
            pairs = [context.Pipe() for _ in range(jobs)]
            ours = [control, *(mine for mine, _ in pairs)]
            process = context.Process(
                target=_template_main,
                args=(control_end, [worker_end for _, worker_end in pairs], ours),
                name="poetflow-build-template",
                daemon=True,
            )
            # Objects that exist now stay out of the collector's sight in both processes:
            # a collection would otherwise write to every shared page, copying each one.
            gc.freeze()
            try:
                process.start()
            finally:
                gc.unfreeze()
        except (OSError, ValueError) as exc:
            logger.debug("no build worker template: %s", exc)
            return None
        control_end.close()
        for _, worker_end in pairs:
            worker_end.close()
        return cls(process, control, [ours for ours, _ in pairs])

    @classmethod
    def prestart(cls, jobs: int) -> None:
        """Fork a template now, for the build command to :meth:`take` later."""
        template = cls.start(jobs)
        if template is not None:
            _prestarted.append(template)

    @classmethod
    def take(cls, jobs: int) -> WorkerTemplate | None:
        """The prestarted template when it was forked for ``jobs`` workers, else a new one
        (None where forking is not safe here)."""
        while _prestarted:
            template = _prestarted.pop()
            if template.jobs == jobs:
                return template
            template.close()
        return cls.start(jobs)

    @staticmethod
    def discard_prestarted() -> None:
        """Close a prestarted template nobody took (the command was not a build after all)."""
        while _prestarted:
            _prestarted.pop().close()

    def fork_workers(self, workspace: Workspace) -> list[tuple[Connection, int]]:
        """The workers' pipes and pids, forked with ``workspace``; waits for the warm-up.

        Once only. Raises OSError or EOFError when the template is gone.
        """
        with self._lock:
            if self._forked or self._closed:
                raise OSError("the build worker template was used or closed already")
            self._forked = True
        self._control.send(workspace)
        pids: list[int] = self._control.recv()
        return list(zip(self._pipes, pids, strict=True))

    def close(self) -> None:
        """End the template (its workers are stopped through their pipes, not here)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            forked = self._forked
        if not forked:
            # Still warming up, or waiting for a workspace that will not come: the
            # warm-up's staging folder goes with it (SIGTERM ends it as SystemExit).
            with contextlib.suppress(OSError):
                self._process.terminate()
        self._control.close()
        if not forked:
            for pipe in self._pipes:
                pipe.close()
        self._process.join(_STOP_SECONDS)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()


def _exit_on_sigterm(_signum: int, _frame: object) -> None:
    raise SystemExit(0)


def _template_main(control: Connection, pipes: list[Connection], theirs: list[Connection]) -> None:
    """The template process: warm up, wait for the workspace, fork a worker per pipe."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # The fork copied the build process's ends too: while one is open here (or in a
    # worker), no end of a pipe reads EOF when the build process dies or closes it.
    for end in theirs:
        end.close()
    from poetflow.build.workers import warm_up

    warm_up()
    try:
        workspace = control.recv()
    except (EOFError, OSError):  # this build needs no workers
        return
    # Objects that exist now stay out of the collector's sight: a collection in a worker
    # would otherwise write to every page it inherited, copying each one.
    gc.freeze()
    pids = []
    for number, pipe in enumerate(pipes):
        pid = os.fork()
        if pid == 0:
            _worker_main(pipe, pipes[number + 1 :], control, workspace)
        pipe.close()  # the worker's now: its death reads as EOF in the build process
        pids.append(pid)
    # Killed by the build process, a worker waits as a zombie until the end, so its pid
    # cannot go to another process meanwhile.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    control.send(pids)
    with contextlib.suppress(EOFError, OSError):
        control.recv()  # until the build process closes the control pipe
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _worker_main(
    pipe: Connection, later: list[Connection], control: Connection, workspace: Workspace
) -> None:
    """A worker forked by the template; never returns."""
    code = 1
    try:
        # The pipes of the workers forked after this one are theirs alone.
        for other in later:
            other.close()
        control.close()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        from poetflow.build.workers import serve

        serve(pipe, workspace)
        code = 0
    finally:
        os._exit(code)
