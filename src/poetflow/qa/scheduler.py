"""Run one job per package, ``jobs`` at a time, each after its runtime dependencies."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Generic, TypeVar

__all__ = ["Scheduler"]

R = TypeVar("R")


class Scheduler(Generic[R]):
    """Dependency-ordered parallel execution.

    ``work(name, failed_dependencies)`` runs in a worker thread; ``failed_dependencies``
    lists every (transitive) dependency whose result ``is_failure``. After a failure with
    ``fail_fast`` no new job starts and the rest get ``skip(name)``. ``on_start`` and
    ``on_done`` are called in the calling thread, one at a time.
    """

    def __init__(
        self,
        order: Sequence[str],
        dependencies: Mapping[str, Sequence[str]],
        *,
        jobs: int,
        fail_fast: bool,
    ) -> None:
        self.order = list(order)
        wanted = set(order)
        self.dependencies = {
            name: [dep for dep in dependencies.get(name, ()) if dep in wanted and dep != name]
            for name in order
        }
        self.jobs = max(1, jobs)
        self.fail_fast = fail_fast

    def _closure(self, name: str) -> list[str]:
        seen: list[str] = []
        stack = list(self.dependencies[name])
        while stack:
            dep = stack.pop()
            if dep not in seen:
                seen.append(dep)
                stack.extend(self.dependencies[dep])
        return seen

    def run(
        self,
        work: Callable[[str, tuple[str, ...]], R],
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
            while pending or running:
                if not stopped:
                    for name in list(pending):
                        if len(running) >= self.jobs:
                            break
                        if all(dep in results for dep in self.dependencies[name]):
                            pending.remove(name)
                            failed = tuple(
                                dep
                                for dep in sorted(self._closure(name), key=self.order.index)
                                if dep in results and is_failure(results[dep])
                            )
                            if on_start:
                                on_start(name)
                            running[pool.submit(work, name, failed)] = name
                    if not running and pending:
                        # Only a dependency cycle leaves work that never becomes ready;
                        # tests are independent, so start the first one anyway.
                        name = pending.pop(0)
                        if on_start:
                            on_start(name)
                        running[pool.submit(work, name, ())] = name
                if not running:
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: self.order.index(running[f])):
                    name = running.pop(future)
                    result = future.result()
                    results[name] = result
                    if on_done:
                        on_done(name, result)
                    if self.fail_fast and is_failure(result):
                        stopped = True
        for name in pending:
            results[name] = skip(name)
            if on_done:
                on_done(name, results[name])
        return {name: results[name] for name in self.order}
