"""The dependency-ordered scheduler: order, jobs limit, blocked dependents, fail-fast, events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from poetflow.scheduler import Scheduler, failed_dependencies

# core <- lib <- app, core <- cli; tool stands alone.
ORDER = ["core", "tool", "lib", "cli", "app"]
DEPENDENCIES = {"lib": ["core"], "cli": ["core"], "app": ["lib"]}


class Recorder:
    """Work that records when each package started and finished, and how many ran at once."""

    def __init__(
        self, *, fail: frozenset[str] = frozenset(), seconds: float = 0.02, slow: str = ""
    ) -> None:
        self.fail = fail
        self.seconds = seconds
        self.slow = slow
        self.lock = threading.Lock()
        self.events: list[tuple[str, str]] = []
        self.running = 0
        self.most = 0
        self.threads: set[str] = set()

    def __call__(self, name: str) -> str:
        with self.lock:
            self.events.append(("start", name))
            self.running += 1
            self.most = max(self.most, self.running)
            self.threads.add(threading.current_thread().name)
        time.sleep(self.seconds * (10 if name == self.slow else 1))
        with self.lock:
            self.running -= 1
            self.events.append(("end", name))
        return "failed" if name in self.fail else "ok"

    def index(self, kind: str, name: str) -> int:
        return self.events.index((kind, name))


def _run(
    scheduler: Scheduler[str],
    work: Recorder,
    **kwargs: Callable[..., object],
) -> dict[str, str]:
    return scheduler.run(
        work,
        is_failure=lambda result: result in ("failed", "blocked"),
        **kwargs,  # type: ignore[arg-type]
    )


def test_every_package_starts_after_its_dependencies_finished() -> None:
    work = Recorder()
    results = _run(Scheduler(ORDER, DEPENDENCIES, jobs=3), work)
    assert results == dict.fromkeys(ORDER, "ok")
    assert list(results) == ORDER
    for name, deps in DEPENDENCIES.items():
        for dep in deps:
            assert work.index("end", dep) < work.index("start", name)


def test_independent_packages_run_side_by_side_up_to_the_jobs_limit() -> None:
    names = [f"p{i}" for i in range(8)]
    work = Recorder(seconds=0.05)
    Scheduler(names, {}, jobs=3).run(work, is_failure=lambda _r: False)
    assert work.most == 3
    one = Recorder(seconds=0.01)
    Scheduler(names, {}, jobs=1).run(one, is_failure=lambda _r: False)
    assert one.most == 1


def test_dependents_of_a_failure_are_blocked_and_the_rest_still_runs() -> None:
    work = Recorder(fail=frozenset({"core"}))
    blocked_by: dict[str, list[str]] = {}

    def blocked(name: str, by: list[str]) -> str:
        blocked_by[name] = by
        return "blocked"

    results = _run(Scheduler(ORDER, DEPENDENCIES, jobs=2), work, blocked=blocked)
    assert results == {
        "core": "failed",
        "tool": "ok",
        "lib": "blocked",
        "cli": "blocked",
        "app": "blocked",  # blocked by lib, which was blocked: transitively
    }
    assert blocked_by == {"lib": ["core"], "cli": ["core"], "app": ["lib"]}
    started = {name for kind, name in work.events if kind == "start"}
    assert started == {"core", "tool"}


def test_without_blocking_dependents_of_a_failure_still_run() -> None:
    work = Recorder(fail=frozenset({"core"}))
    results = _run(Scheduler(ORDER, DEPENDENCIES, jobs=2), work)
    assert results["lib"] == "ok"
    assert work.index("end", "core") < work.index("start", "lib")


def test_fail_fast_starts_nothing_after_the_first_failure() -> None:
    work = Recorder(fail=frozenset({"core"}))
    results = _run(
        Scheduler(ORDER, DEPENDENCIES, jobs=1, fail_fast=True),
        work,
        skip=lambda _name: "skipped",
    )
    assert results == {
        "core": "failed",
        "tool": "skipped",
        "lib": "skipped",
        "cli": "skipped",
        "app": "skipped",
    }
    assert [name for kind, name in work.events if kind == "start"] == ["core"]


def test_without_waiting_packages_start_in_order_and_do_not_wait_for_dependencies() -> None:
    work = Recorder(slow="core")
    _run(Scheduler(ORDER, DEPENDENCIES, jobs=2, wait=False), work)
    starts = [name for kind, name in work.events if kind == "start"]
    assert starts == ORDER
    # lib starts while core, its dependency, still runs: tests do not wait.
    assert work.index("start", "lib") < work.index("end", "core")
    waiting = Recorder(slow="core")
    _run(Scheduler(ORDER, DEPENDENCIES, jobs=2), waiting)
    assert waiting.index("end", "core") < waiting.index("start", "lib")


def test_events_arrive_in_the_calling_thread_one_per_package() -> None:
    caller = threading.current_thread()
    seen: list[tuple[str, str, bool]] = []
    work = Recorder(fail=frozenset({"lib"}))
    _run(
        Scheduler(ORDER, DEPENDENCIES, jobs=2),
        work,
        blocked=lambda _name, _by: "blocked",
        on_start=lambda name: seen.append(("start", name, threading.current_thread() is caller)),
        on_done=lambda name, result: seen.append(
            (result, name, threading.current_thread() is caller)
        ),
    )
    assert all(in_caller for _kind, _name, in_caller in seen)
    assert ("blocked", "app", True) in seen
    assert ("start", "app", True) not in seen
    assert sorted(name for kind, name, _ in seen if kind != "start") == sorted(ORDER)
    assert caller.name not in work.threads


def test_an_order_that_lists_a_dependent_first_is_refused() -> None:
    with pytest.raises(ValueError, match="lib is scheduled before its dependency core"):
        Scheduler(["lib", "core"], {"lib": ["core"]}, jobs=2)
    # Without waiting, any order goes (tests start in order, nothing waits).
    Scheduler(["lib", "core"], {"lib": ["core"]}, jobs=2, wait=False)


def test_dependencies_outside_the_selection_are_not_waited_for() -> None:
    work = Recorder()
    results = _run(Scheduler(["lib", "app"], DEPENDENCIES, jobs=2), work)
    assert results == {"lib": "ok", "app": "ok"}


def test_failed_dependencies_are_found_transitively_in_order() -> None:
    assert failed_dependencies("app", DEPENDENCIES, {"core"}, ORDER) == ["core"]
    assert failed_dependencies("app", DEPENDENCIES, {"core", "lib"}, ORDER) == ["core", "lib"]
    assert failed_dependencies("tool", DEPENDENCIES, {"core"}, ORDER) == []
