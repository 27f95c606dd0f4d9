"""The one dependency-ordered scheduler: build, publish, sign and test run their packages here.

Work for a package runs in a worker thread, ``jobs`` at a time, dependencies first. A
stage whose packages need their dependencies done first (build, publish, sign) waits for
them, and a package whose dependency failed is *blocked*: it never runs, and it blocks its
own dependents in turn. Tests of different packages are independent at run time, so they
only start in dependency order and a failed dependency is noted afterwards
(:func:`failed_dependencies`). CPU-bound work offloads to processes itself (the build's
worker pool): the threads here only wait.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

__all__ = ["Scheduler", "failed_dependencies"]

R = TypeVar("R")


def failed_dependencies(
    name: str, dependencies: Mapping[str, Sequence[str]], failed: set[str], order: Sequence[str]
) -> list[str]:
    """Every (transitive) dependency of ``name`` in ``failed``, in ``order``."""
    seen: set[str] = set()
    stack = list(dependencies.get(name, ()))
    while stack:
        dep = stack.pop()
        if dep not in seen and dep != name:
            seen.add(dep)
            stack.extend(dependencies.get(dep, ()))
    return [dep for dep in order if dep in seen and dep in failed]


class Scheduler(Generic[R]):
    """Runs ``work(name)`` for every name of ``order``, at most ``jobs`` at once.

    ``dependencies`` maps a name to the names it depends on; names outside ``order`` are
    ignored (a dependency that is not selected is not waited for). With ``wait`` (the
    default) a package starts once all its dependencies have finished, so ``order`` must
    list dependencies first (ValueError otherwise). Without ``wait`` packages start
    strictly in ``order`` as slots free up. With ``fail_fast``, after the first failure
    nothing new starts and every package not started gets ``skip(name)``.

    ``name`` labels the worker threads.
    """

    def __init__(
        self,
        order: Sequence[str],
        dependencies: Mapping[str, Sequence[str]] | None = None,
        *,
        jobs: int,
        wait: bool = True,
        fail_fast: bool = False,
        name: str = "poetflow",
    ) -> None:
        self.order = list(order)
        self.jobs = max(1, jobs)
        self.wait = wait
        self.fail_fast = fail_fast
        self.name = name
        self._position = {item: index for index, item in enumerate(self.order)}
        known = self._position
        given = dependencies or {}
        self._needs = {
            item: [dep for dep in given.get(item, ()) if dep in known and dep != item]
            for item in self.order
        }
        if wait:
            late = [
                (item, dep)
                for item, deps in self._needs.items()
                for dep in deps
                if known[dep] > known[item]
            ]
            if late:
                item, dep = late[0]
                raise ValueError(f"{item} is scheduled before its dependency {dep}")

    def run(
        self,
        work: Callable[[str], R],
        *,
        is_failure: Callable[[R], bool],
        blocked: Callable[[str, list[str]], R] | None = None,
        skip: Callable[[str], R] | None = None,
        on_start: Callable[[str], None] | None = None,
        on_done: Callable[[str, R], None] | None = None,
    ) -> dict[str, R]:
        """Run everything; returns each name's result, in ``order``.

        With ``wait`` and ``blocked``, a package whose direct dependencies include a
        failure (``is_failure``, blocked ones included) gets ``blocked(name, those)``
        instead of running. ``on_start`` and ``on_done`` run in the calling thread, one
        at a time, so a caller can print a package's whole output without interleaving.
        An exception from ``work`` propagates once the running work has finished:
        callers turn their own failures into results.
        """
        if self.fail_fast and skip is None:
            raise ValueError("fail_fast needs skip")
        results: dict[str, R] = {}
        pending = list(self.order)
        running: dict[Future[R], str] = {}
        stopped = False

        def finish(item: str, result: R) -> None:
            results[item] = result
            if on_done:
                on_done(item, result)

        with ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix=self.name) as pool:
            while True:
                if not stopped:
                    for item in list(pending):
                        if self.wait:
                            deps = self._needs[item]
                            if any(dep not in results for dep in deps):
                                continue
                            bad = [dep for dep in deps if is_failure(results[dep])]
                            if bad and blocked is not None:
                                pending.remove(item)
                                finish(item, blocked(item, bad))
                                continue
                        if len(running) >= self.jobs:
                            if self.wait:
                                continue  # a later package may still be blocked right now
                            break
                        pending.remove(item)
                        if on_start:
                            on_start(item)
                        running[pool.submit(work, item)] = item
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: self._position[running[f]]):
                    item = running.pop(future)
                    result = future.result()
                    finish(item, result)
                    if self.fail_fast and is_failure(result):
                        stopped = True
        if skip is not None:
            for item in pending:
                finish(item, skip(item))
        return {item: results[item] for item in self.order}
