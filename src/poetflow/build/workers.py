"""One package's build from staging to checked artifacts, in this process or a worker process.

poetry-core is Python under the GIL: builds in threads keep one core busy whatever
``--jobs`` says. With more than one job, the CPU-bound part of each poetry-core build (the
pyproject rewrite, the staging copy, poetry-core itself and the checks on its artifacts)
runs in a pool of worker processes, while the scheduler's threads only wait for them.

The workers are forked from a fork server that has poetry-core imported already, so each
one starts in milliseconds, and forking stays safe whatever threads the command runs (a
progress bar, telemetry exporters). The pool starts in the background when a run has
enough to build to pay for it, and until its first worker is ready builds run in this
process: its start-up never delays a build, and a rerun with nothing to do never starts it.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from poetflow.build.backends import (
    BackendKind,
    build_with_core,
    build_with_pep517,
    build_with_poetry,
)
from poetflow.build.sources import SourceFile
from poetflow.build.staging import rewrite_pyproject, stage
from poetflow.build.verify import verify_artifact
from poetflow.errors import PoetFlowError
from poetflow.workspace import Package, Workspace

__all__ = ["BuildJob", "BuildWorkers", "BuiltFiles", "available_cores", "build_staged"]

logger = logging.getLogger(__name__)

# Imported once by the fork server, so that no worker imports them again.
_PRELOAD = [
    "poetflow.build.workers",
    "poetry.core.factory",
    "poetry.core.masonry.builders.sdist",
    "poetry.core.masonry.builders.wheel",
    "tomlkit",
]


def available_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - platforms without affinity
        return os.cpu_count() or 1


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

# The workspace of the run a worker process serves (set once by the pool's initializer).
_worker_workspace: list[Workspace] = []


@dataclass(frozen=True)
class _Answer:
    """A worker's reply: the files, or the error as the engine would have reported it
    (exceptions of poetry-core do not all survive pickling)."""

    built: BuiltFiles | None
    message: str = ""
    hint: str | None = None


def _start_worker(workspace: Workspace) -> None:
    _worker_workspace[:] = [workspace]


def _warm_up() -> None:
    """Build poetry-core's requirement parser now, not in the first package's build."""
    from poetry.core.packages.dependency import Dependency

    Dependency.create_from_pep_508("poetflow-warm-up>=1")


def _build_in_worker(job: BuildJob) -> _Answer:
    # Workers are single-threaded: setting the variable here reaches poetry-core only
    # for this build (it reads SOURCE_DATE_EPOCH when no epoch was given to it).
    os.environ.pop("SOURCE_DATE_EPOCH", None)
    try:
        return _Answer(build_staged(job, _worker_workspace[0]))
    except PoetFlowError as exc:
        return _Answer(None, exc.message, exc.hint)
    except Exception as exc:
        logger.debug("build of %s crashed in a worker", job.package.name, exc_info=True)
        return _Answer(None, f"unexpected {type(exc).__name__}: {exc}")


# --- the engine side ---------------------------------------------------------------------


class BuildWorkers:
    """Where the builds of one run happen: worker processes when ``jobs`` > 1, else here.

    :meth:`start` starts the pool in the background; :meth:`build` uses it once a worker
    is ready and builds in this process until then (and for the ``poetry`` and PEP 517
    builders, which are subprocesses already). Thread-safe; :meth:`close` ends the pool.
    """

    def __init__(self, workspace: Workspace, jobs: int) -> None:
        self.workspace = workspace
        self.jobs = jobs
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._pool: ProcessPoolExecutor | None = None
        self._starter: threading.Thread | None = None
        self._closed = False

    @property
    def parallel(self) -> bool:
        return self.jobs > 1

    def start(self) -> None:
        """Start the worker pool in the background (once; nothing with one job)."""
        with self._lock:
            if not self.parallel or self._starter is not None or self._closed:
                return
            self._starter = threading.Thread(
                target=self._start_pool, name="poetflow-build-pool", daemon=True
            )
            self._starter.start()

    def _start_pool(self) -> None:
        import multiprocessing

        # Workers take this process's sys.path, which must hold the folder poetry-core adds
        # for its vendored libraries when it is first imported.
        import poetry.core  # noqa: F401

        started = time.monotonic()
        try:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_PRELOAD)
            pool = ProcessPoolExecutor(
                self.jobs,
                mp_context=context,
                initializer=_start_worker,
                initargs=(self.workspace,),
            )
            with self._lock:
                if self._closed:
                    pool.shutdown(wait=False, cancel_futures=True)
                    return
                self._pool = pool
            warm: list[Future[None]] = [pool.submit(_warm_up) for _ in range(self.jobs)]
        except (OSError, ValueError, NotImplementedError, RuntimeError) as exc:
            # No fork server here (a sandbox without semaphores, another OS): build in-process.
            logger.debug("no build worker processes: %s", exc)
            return

        def ready(future: Future[None]) -> None:
            if future.cancelled() or future.exception() is not None:
                # A worker that cannot start (broken pool): keep building in-process.
                logger.debug("a build worker did not start: %s", future.exception())
                return
            if not self._ready.is_set():
                logger.debug("build workers ready after %.2fs", time.monotonic() - started)
            self._ready.set()

        for future in warm:
            future.add_done_callback(ready)

    def ready(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds for a worker process (builds never wait for one)."""
        return self._ready.wait(timeout)

    def build(self, job: BuildJob) -> BuiltFiles:
        """Build ``job`` where it is cheapest right now; raises PoetFlowError on failure."""
        pool = self._pool if self._ready.is_set() and job.kind == "core" else None
        if pool is None:
            return build_staged(job, self.workspace)
        try:
            answer = pool.submit(_build_in_worker, job).result()
        except BrokenProcessPool:
            raise PoetFlowError(
                f"the build worker for {job.package.name} died (out of memory, or killed).",
                hint="Rerun the build; --jobs 1 builds without worker processes.",
            ) from None
        if answer.built is None:
            raise PoetFlowError(answer.message, hint=answer.hint)
        return answer.built

    def close(self) -> None:
        """Stop the pool; builds still running finish first."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
