"""One package's build from staging to checked artifacts, in this process or a worker process.

poetry-core is Python under the GIL: builds in threads keep one core busy whatever
``--jobs`` says. With more than one job, the CPU-bound part of each poetry-core build (the
pyproject rewrite, the staging copy, poetry-core itself and the checks on its artifacts)
runs in worker processes, while the scheduler's threads only wait for them.

The workers come from the template (:mod:`poetflow.build.template`) when the build
command forked one as it started: it warmed poetry-core up while this process read the
workspace. Without one they are forked from this process right after it has built a
one-module package of its own (:func:`warm_up`), so that they inherit poetry-core
imported and warmed up, and each starts in milliseconds. When other threads run (a
progress bar, telemetry exporters) a fork could copy a lock one of them holds, so the
workers come from a fork server then, in the background, and until the first is ready
builds run in this process. Each worker has its own pipe: a build is one message there
and one back, and the next job waits in the pipe while the worker builds, so that it
starts the moment the worker is free.
Workers start only when a run has enough to build to pay for them: a rerun with nothing
to do never starts them. Builds in this process run one at a time: two poetry-core
builds in two threads only take turns at the GIL.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poetflow.build.backends import (
    BackendKind,
    build_with_core,
    build_with_pep517,
    build_with_poetry,
)
from poetflow.build.sources import SourceFile
from poetflow.build.staging import rewrite_pyproject, stage, staging_directory
from poetflow.build.verify import verify_artifact
from poetflow.errors import PoetFlowError
from poetflow.workspace import Package, Workspace

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from poetflow.build.template import WorkerTemplate

__all__ = [
    "JOBS_PER_WORKER",
    "BuildJob",
    "BuildWorkers",
    "BuiltFiles",
    "build_staged",
    "serve",
    "warm_up",
]

logger = logging.getLogger(__name__)

# Imported once by the fork server, so that no worker imports them again. The console
# script's own import is there too: multiprocessing runs the parent's main script again
# in every worker (as __mp_main__), and already imported it costs nothing.
_PRELOAD = [
    "poetflow.build.workers",
    "poetry.core.factory",
    "poetry.core.masonry.builders.sdist",
    "poetry.core.masonry.builders.wheel",
    "tomlkit",
    "poetflow.cli.app",
]
# A worker's jobs at once: the one it builds and the next, waiting in its pipe.
JOBS_PER_WORKER = 2
# How long a worker may take to stop at the end of a run before it is killed.
_STOP_SECONDS = 5.0


@dataclass(frozen=True)
class BuildJob:
    """One package to build: its input files, where to stage and build, how."""

    package: Package
    files: tuple[SourceFile, ...]
    staging: Path  # a fresh folder: the project is copied to staging/project
    epoch: int | None
    kind: BackendKind
    timeout: float


@dataclass(frozen=True)
class BuiltFiles:
    """What a build produced (inside the staging folder) and what the checks found."""

    sdist: Path
    wheel: Path
    version: str
    problems: tuple[str, ...]


def build_staged(job: BuildJob, workspace: Workspace) -> BuiltFiles:
    """Rewrite, stage, build and check one package; raises PoetFlowError when it cannot."""
    package = job.package
    text = package.pyproject.read_text(encoding="utf-8")
    pyproject = rewrite_pyproject(text, package, workspace)
    project = stage(job.files, pyproject, job.staging / "project")
    out = job.staging / "out"
    out.mkdir()
    if job.kind == "core":
        built = build_with_core(project, out, job.epoch)
    elif job.kind == "poetry":
        built = build_with_poetry(project, out, job.epoch, job.timeout)
    else:
        built = build_with_pep517(project, out, job.epoch, job.timeout)
    # A plugin-set version is only known from the artifacts themselves.
    dynamic = package.dynamic_version or not package.version
    version = _wheel_version(built.wheel) if dynamic else package.version or ""
    internal = frozenset(member.name for member in workspace.packages)
    problems: list[str] = []
    for path, kind in ((built.sdist, "sdist"), (built.wheel, "wheel")):
        problems += verify_artifact(path, kind, package.display_name, version, internal)
    return BuiltFiles(built.sdist, built.wheel, version, tuple(problems))


def _wheel_version(wheel: Path) -> str:
    from packaging.utils import parse_wheel_filename

    return str(parse_wheel_filename(wheel.name)[1])


# --- the worker side ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    """A worker's reply: the files, or the error as the engine would have reported it
    (exceptions of poetry-core do not all survive pickling)."""

    built: BuiltFiles | None
    message: str = ""
    hint: str | None = None


def _build_in_worker(job: BuildJob, workspace: Workspace) -> _Answer:
    # Workers are single-threaded: setting the variable here reaches poetry-core only
    # for this build (it reads SOURCE_DATE_EPOCH when no epoch was given to it).
    os.environ.pop("SOURCE_DATE_EPOCH", None)
    try:
        return _Answer(build_staged(job, workspace))
    except PoetFlowError as exc:
        return _Answer(None, exc.message, exc.hint)
    except Exception as exc:
        logger.debug("build of %s crashed in a worker", job.package.name, exc_info=True)
        return _Answer(None, f"unexpected {type(exc).__name__}: {exc}")


# A package of one module, built once by warm_up (dated 1980-01-01, as wheels allow).
_WARM_UP_EPOCH = 315532800
_WARM_UP_PYPROJECT = """\
[project]
name = "poetflow-warm-up"
version = "1.0.0"
description = "Built once to warm up poetry-core; never kept."
requires-python = ">=3.9"
dependencies = ["packaging>=20"]

[tool.poetry]
packages = [{ include = "poetflow_warm_up" }]

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""


@functools.cache  # once a process: a forked worker inherits the parent's call
def warm_up() -> None:
    """Build a one-module package (in a temporary folder, thrown away) before any worker
    is forked.

    A process's first poetry-core build costs about three ordinary ones: imports done
    on first use (the builders, packaging's metadata, the email and archive modules),
    the validators of poetry-core's pyproject schemas and its requirement parser, all
    built lazily. Done once here, every worker forked afterwards inherits them instead
    of paying for them in its own first build.
    """
    import tomlkit

    try:
        _build_warm_up_package(tomlkit.dumps(tomlkit.parse(_WARM_UP_PYPROJECT)))
    except (PoetFlowError, OSError) as exc:  # the real builds will say what is wrong
        logger.debug("the warm-up build failed: %s", exc)


def _build_warm_up_package(pyproject: str) -> None:
    # In a staging folder: poetry-core asks no git about it (see backends).
    with staging_directory("poetflow-warm-up") as temporary:
        project = Path(temporary, "project")
        (project / "poetflow_warm_up").mkdir(parents=True)
        (project / "poetflow_warm_up" / "__init__.py").write_text("", encoding="utf-8")
        (project / "pyproject.toml").write_text(pyproject, encoding="utf-8")
        out = Path(temporary, "out")
        out.mkdir()
        built = build_with_core(project, out, _WARM_UP_EPOCH)
        verify_artifact(built.sdist, "sdist", "poetflow-warm-up", "1.0.0", frozenset())
        verify_artifact(built.wheel, "wheel", "poetflow-warm-up", "1.0.0", frozenset())


def _safe_start_method() -> str:
    """``fork`` when this process runs one thread on Linux: a forked worker inherits what
    is imported already and starts at once. With other threads running (a progress bar,
    telemetry exporters) a fork could copy a lock one of them holds, so the workers come
    from the fork server instead."""
    import multiprocessing
    import sys

    single = threading.active_count() == 1
    if (
        single
        and sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
    ):
        return "fork"
    return "forkserver"


def serve(connection: Connection, workspace: Workspace) -> None:
    """A worker process: warm up, say so, then build each job sent until told to stop."""
    warm_up()  # nothing left to do when forked from a warm process
    connection.send("ready")
    while True:
        try:
            job = connection.recv()
        except EOFError:  # the run ended without saying so
            return
        if job is None:
            return
        connection.send(_build_in_worker(job, workspace))


class _Worker:
    """One worker process and the pipe to it: a child of this process, or of the template."""

    def __init__(self, connection: Connection, pid: int, process: Any = None) -> None:
        self.connection = connection
        self.pid = pid
        self._process = process  # a multiprocessing.Process when a child of this process
        # A worker takes a job while it builds another (see BuildWorkers._take): jobs are
        # sent in turn and answered in the order sent, each to the thread that sent it.
        self._sending = threading.Lock()
        self._turns = threading.Condition()
        self._sent = 0
        self._answered = 0

    @classmethod
    def child(cls, context: Any, workspace: Workspace) -> _Worker:
        """Start a worker process from this process (forked, or from the fork server)."""
        parent, child = context.Pipe()
        process = context.Process(
            target=serve, args=(child, workspace), name="poetflow-build", daemon=True
        )
        process.start()
        child.close()
        return cls(parent, process.pid, process)

    def wait_ready(self) -> bool:
        try:
            return bool(self.connection.recv() == "ready")
        except (EOFError, OSError):
            return False

    def build(self, job: BuildJob) -> _Answer:
        """Send ``job`` and wait for its answer; raises OSError/EOFError when the worker
        died."""
        with self._sending:
            ticket = self._sent
            self._sent += 1
            self.connection.send(job)
        with self._turns:
            self._turns.wait_for(lambda: self._answered == ticket)
        try:
            answer: _Answer = self.connection.recv()
        finally:
            with self._turns:
                self._answered += 1
                self._turns.notify_all()
        return answer

    def stop(self) -> None:
        with contextlib.suppress(OSError):  # it died already
            self.connection.send(None)
        if not self._ended(_STOP_SECONDS):
            with contextlib.suppress(OSError):  # it ended meanwhile
                os.kill(self.pid, signal.SIGKILL)
        if self._process is not None:  # reaped here; the template reaps its own
            self._process.join(_STOP_SECONDS)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
        self.connection.close()

    def _ended(self, timeout: float) -> bool:
        """Whether the worker closed its end of the pipe (it does so as it exits)."""
        try:
            if not self.connection.poll(timeout):
                return False
            self.connection.recv()  # nothing more is sent after the last answer
        except (EOFError, OSError):
            return True
        return False


# --- the engine side ---------------------------------------------------------------------


class BuildWorkers:
    """Where the builds of one run happen: worker processes when ``jobs`` > 1, else here.

    :meth:`start` starts ``jobs`` worker processes; :meth:`build` hands the job to a
    worker, or builds here while none is ready (see :meth:`_take`; the ``poetry`` and
    PEP 517 builders are subprocesses already: they always run from here).
    Thread-safe; :meth:`close` stops the workers.
    """

    def __init__(
        self,
        workspace: Workspace,
        jobs: int,
        start_method: str | None = None,
        template: WorkerTemplate | None = None,
    ) -> None:
        self.workspace = workspace
        self.jobs = jobs
        # "fork", "forkserver" or "template"; None: from the template when there is one
        # (forked for as many jobs), else fork when that is safe (see _safe_start_method).
        self.start_method = start_method
        # Handed over: closed with the workers, started or not.
        self.template = template if template is not None and template.jobs == jobs else None
        if template is not None and self.template is None:
            template.close()
        # Guards everything below; notified when a worker gets ready or free, or the slot
        # in this process frees.
        self._state = threading.Condition()
        self._workers: list[_Worker] = []  # every worker process started, to stop them
        # Ready and alive: how many jobs each has (the one it builds and one waiting).
        self._jobs_of: dict[_Worker, int] = {}
        self._busy_since: dict[_Worker, float] = {}  # when its current job started
        self._busy_here = False
        self._starting = False
        # While workers start, builds run here, unless this process is cold: the template
        # warmed up in its stead, and its workers are ready before a first build here.
        self._build_here_meanwhile = True
        self._closed = False
        self._starter: threading.Thread | None = None

    @property
    def parallel(self) -> bool:
        return self.jobs > 1

    def start(self) -> None:
        """Start the worker processes (once; nothing with one job).

        With a template they are forked from it, in the background. Else, when this
        process runs a single thread they are forked from it right away, with poetry-core
        warmed up first so that they inherit it; otherwise they come from the fork
        server, in the background.
        """
        with self._state:
            if not self.parallel or self._starter is not None or self._closed:
                return
            self._starting = True
            method = self.start_method or ("template" if self.template else _safe_start_method())
            forked: list[_Worker] = []
            if method == "template":
                self._build_here_meanwhile = False
            elif method == "fork":
                forked = self._fork_workers()
                if not forked:
                    method = "forkserver"
            self._starter = threading.Thread(
                target=self._start_workers,
                args=(method, forked),
                name="poetflow-build-workers",
                daemon=True,
            )
            self._starter.start()

    def _fork_workers(self) -> list[_Worker]:
        import multiprocessing

        warm_up()
        # Objects that exist now stay out of the collector's sight: a collection in a
        # worker would otherwise write to every page it inherited, copying each one.
        gc.freeze()
        try:
            context = multiprocessing.get_context("fork")
            workers = [_Worker.child(context, self.workspace) for _ in range(self.jobs)]
        except (OSError, ValueError) as exc:
            logger.debug("no forked build workers: %s", exc)
            return []
        finally:
            gc.unfreeze()
        self._workers.extend(workers)
        return workers

    def _from_template(self) -> list[_Worker]:
        if self.template is None:
            raise OSError("there is no build worker template")
        try:
            pipes = self.template.fork_workers(self.workspace)
        except EOFError:
            raise OSError("the build worker template ended") from None
        workers = [_Worker(connection, pid) for connection, pid in pipes]
        with self._state:
            self._workers.extend(workers)
        return workers

    def _start_workers(self, method: str, forked: list[_Worker]) -> None:
        """Wait for each worker to be ready (starting it first, unless forked already)."""
        import multiprocessing

        started = time.monotonic()
        try:
            if method == "template":
                forked = self._from_template()
            else:
                context = multiprocessing.get_context(method)
            if method == "forkserver":
                # Workers take this process's sys.path, which must hold the folder
                # poetry-core adds for its vendored libraries when it is first imported.
                import poetry.core  # noqa: F401

                context.set_forkserver_preload(_PRELOAD)
            for number in range(self.jobs):
                if forked:
                    worker = forked[number]
                else:
                    worker = _Worker.child(context, self.workspace)
                    with self._state:
                        self._workers.append(worker)
                with self._state:
                    if self._closed:
                        break
                if not worker.wait_ready():
                    logger.debug("a build worker did not start")
                    continue
                with self._state:
                    if not self._jobs_of:
                        logger.debug(
                            "%s build workers ready after %.2fs", method, time.monotonic() - started
                        )
                    self._jobs_of[worker] = 0
                    self._state.notify_all()
        except (OSError, ValueError, RuntimeError) as exc:
            # No fork server here (a sandbox without semaphores, another OS), the template
            # gone: build in-process.
            logger.debug("no build worker processes: %s", exc)
        finally:
            with self._state:
                self._starting = False
                self._build_here_meanwhile = True
                self._state.notify_all()  # whoever waits for a worker learns if there is none

    def ready(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds for an idle worker process."""
        with self._state:
            return self._state.wait_for(lambda: 0 in self._jobs_of.values(), timeout)

    def build(self, job: BuildJob, *, in_worker: bool = False) -> BuiltFiles:
        """Build ``job`` where it is cheapest right now; raises PoetFlowError on failure.

        ``in_worker`` hands it to a worker process even when this process is free (it
        waits for one; PoetFlowError when none can start).
        """
        if not in_worker and (job.kind != "core" or not self.parallel):
            return build_staged(job, self.workspace)  # a subprocess builds, or one job
        worker = self._take_worker() if in_worker else self._take()
        if worker is None:
            try:
                return build_staged(job, self.workspace)
            finally:
                with self._state:
                    self._busy_here = False
                    self._state.notify_all()
        try:
            answer = worker.build(job)
        except (EOFError, OSError):
            with self._state:
                self._jobs_of.pop(worker, None)
                self._state.notify_all()
            raise PoetFlowError(
                f"the build worker for {job.package.name} died (out of memory, or killed).",
                hint="Rerun the build; --jobs 1 builds without worker processes.",
            ) from None
        with self._state:
            if worker in self._jobs_of:
                self._jobs_of[worker] -= 1
                self._busy_since[worker] = time.monotonic()  # on its next job, if any
            self._state.notify_all()
        if answer.built is None:
            raise PoetFlowError(answer.message, hint=answer.hint)
        return answer.built

    def _take(self) -> _Worker | None:
        """A worker for the next build, or this process's slot (None) while none runs.

        Every build goes to a worker once one is ready, even a lone one: this process
        has the reading, hashing and placing of every package to do, and a build here
        would hold up the workers' next jobs. Until then builds run here, one at a time,
        since two in two threads would only take turns at the GIL.
        """
        with self._state:
            while True:
                worker = self._least_busy()
                if worker is not None:
                    return worker
                idle_here = not self._busy_here and not self._jobs_of
                if idle_here and (self._build_here_meanwhile or not self._starting):
                    self._busy_here = True
                    return None
                self._state.wait()

    def _least_busy(self) -> _Worker | None:
        """An idle worker, else the one longest on its job when it has nothing waiting:
        the job sent there waits in its pipe and starts the moment the worker is done,
        not after this process has heard of it and sent the next. Called under _state."""
        free = [worker for worker, jobs in self._jobs_of.items() if jobs < JOBS_PER_WORKER]
        if not free:
            return None
        worker = min(free, key=lambda w: (self._jobs_of[w], self._busy_since.get(w, 0.0)))
        if self._jobs_of[worker] == 0:
            self._busy_since[worker] = time.monotonic()
        self._jobs_of[worker] += 1
        return worker

    def _take_worker(self) -> _Worker:
        with self._state:
            self._state.wait_for(
                lambda: 0 in self._jobs_of.values() or not (self._starting or self._jobs_of)
            )
            if 0 not in self._jobs_of.values():
                raise PoetFlowError("no build worker process could start here.")
            worker = self._least_busy()
            assert worker is not None
            return worker

    def close(self) -> None:
        """Stop the workers; builds still running finish first."""
        with self._state:
            self._closed = True
            starter = self._starter
        if starter is not None:
            starter.join()
        with self._state:
            workers, self._workers = self._workers, []
            self._jobs_of.clear()
        for worker in workers:
            worker.stop()
        if self.template is not None:
            self.template.close()
