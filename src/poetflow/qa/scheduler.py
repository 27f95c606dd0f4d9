"""Run one job per package, ``jobs`` at a time, started in runtime-dependency order.

Tests of different packages are independent (path dependencies are installed
editable, nothing has to be built first), so a dependent does not wait for its
dependencies to finish: waiting would serialise every chain-shaped monorepo. The
dependency order decides which package starts first, and the report says afterwards
which packages had a failed dependency.
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
    """Starts ``work(name)`` for each name of ``order`` (dependencies first), at most
    ``jobs`` at once. After a failure with ``fail_fast`` nothing new starts and the rest
    get ``skip(name)``. ``on_start``/``on_done`` run in the calling thread, one at a time,
    so a caller can print a package's whole output without interleaving.
    """

    def __init__(self, order: Sequence[str], *, jobs: int, fail_fast: bool) -> None:
        self.order = list(order)
        self.jobs = max(1, jobs)
        self.fail_fast = fail_fast

    def run(
        self,
        work: Callable[[str], R],
        *,
        is_failure: Callable[[R], bool],
        skip: Callable[[str], R],
        on_start: Callable[[str], None] | None = None,
        on_done: Callable[[str, R], None] | None = None,
    ) -> dict[str, R]:
        results: dict[str, R] = {}
        pending = list(self.order)
        running: dict[Future[R], str] = {}
        stopped = False
        with ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="poetflow-test") as pool:
            while running or (pending and not stopped):
                while pending and not stopped and len(running) < self.jobs:
                    name = pending.pop(0)
                    if on_start:
                        on_start(name)
                    running[pool.submit(work, name)] = name
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: self.order.index(running[f])):
                    name = running.pop(future)
                    results[name] = future.result()
                    if on_done:
                        on_done(name, results[name])
                    if self.fail_fast and is_failure(results[name]):
                        stopped = True
        for name in pending:
            results[name] = skip(name)
            if on_done:
                on_done(name, results[name])
        return {name: results[name] for name in self.order}
