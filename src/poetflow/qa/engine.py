"""Running the QA of many packages: environments, commands, order, reports."""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from poetflow.hooks.running import HookFailedError
from poetflow.hooks.stage import StageHooks
from poetflow.poetry_cli import PoetryCli
from poetflow.process import CommandNotFoundError, run_process
from poetflow.qa.environments import (
    CurrentEnvironment,
    EnvironmentFailure,
    PoetryEnvironment,
    PreparedEnvironment,
    SharedEnvironment,
    TestEnvironment,
    state_dir,
)
from poetflow.qa.junit import is_pytest, junit_argument, read_counts, write_junit
from poetflow.qa.results import CommandResult, PackageReport, TestReport
from poetflow.qa.settings import EnvironmentKind, TestSettings
from poetflow.scheduler import Scheduler, failed_dependencies
from poetflow.workspace import Package, Workspace

if TYPE_CHECKING:
    from poetflow.cache.settings import CacheSettings
    from poetflow.qa.caching import TestResultCache

__all__ = [
    "PlannedPackage",
    "TestEvent",
    "TestOptions",
    "plan_tests",
    "run_package_qa",
    "run_tests",
]

logger = logging.getLogger(__name__)

# pytest's "no tests collected": a package without tests is not a failing package.
_PYTEST_NO_TESTS = 5


@dataclass(frozen=True)
class TestOptions:
    """How to run: ``env`` overrides every package's configured environment; ``cache``
    (None: no cache) finds the results of unchanged packages instead of running them."""

    __test__ = False

    env: EnvironmentKind | None = None
    jobs: int = 1
    fail_fast: bool = False
    junit_xml: Path | None = None
    cache: CacheSettings | None = None


@dataclass(frozen=True)
class TestEvent:
    """Progress: ``started`` then ``finished`` (with the report) for each package, or
    ``skipped`` after a failure under fail-fast. Delivered in the calling thread."""

    __test__ = False

    kind: Literal["started", "finished", "skipped"]
    package: str
    report: PackageReport | None = None


class _Context:
    """What every package's run shares: the environments (made lazily) and paths."""

    def __init__(
        self, workspace: Workspace, options: TestOptions, packages: Sequence[Package]
    ) -> None:
        from poetflow.qa.editables import EditableWheels
        from poetflow.uv import UvCli

        self.workspace = workspace
        self.options = options
        self.packages = tuple(packages)
        self.poetry = PoetryCli()
        self.uv = UvCli()
        self.editables = EditableWheels(
            state_dir(workspace.root, create=False) / "cache" / "editables"
        )
        self.results_dir = state_dir(workspace.root, create=False) / "test-results"
        self.results: TestResultCache | None = None
        self._environments: dict[str, TestEnvironment] = {}
        # Workers ask concurrently; two SharedEnvironment objects would build twice.
        self._lock = threading.Lock()

    def open_cache(self) -> None:
        from poetflow.cache.task import open_cache
        from poetflow.qa.caching import TestResultCache

        settings = self.options.cache
        cache = open_cache(self.workspace.root, settings)
        if cache is not None and settings is not None:
            self.results = TestResultCache(self.workspace, cache, settings, self.packages)

    def close(self) -> None:
        if self.results is not None:
            self.results.cache.close()

    def fresh_results_dir(self, package: Package) -> None:
        """The folder for PoetFlow's JUnit files, without this package's old ones."""
        state_dir(self.workspace.root)
        self.results_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.results_dir.glob(f"{package.name}-*.xml"):
            stale.unlink(missing_ok=True)

    def environment(self, kind: EnvironmentKind) -> TestEnvironment:
        with self._lock:
            return self._environment(kind)

    def _environment(self, kind: EnvironmentKind) -> TestEnvironment:
        if kind not in self._environments:
            if kind == "poetry":
                self._environments[kind] = PoetryEnvironment(
                    self.workspace, self.poetry, self.uv, self.editables
                )
            elif kind == "shared":
                self._environments[kind] = SharedEnvironment(
                    self.workspace, self.uv, self.editables, self.packages
                )
            else:
                self._environments[kind] = CurrentEnvironment()
        return self._environments[kind]


def _resolve_program(program: str, cwd: Path, path: str) -> str | None:
    if os.sep in program or (os.altsep and os.altsep in program):
        candidate = (cwd / program).resolve()
        return str(candidate) if os.access(candidate, os.X_OK) and candidate.is_file() else None
    return shutil.which(program, path=path)


def _run_command(
    package: Package,
    argv: tuple[str, ...],
    index: int,
    prepared: PreparedEnvironment,
    settings: TestSettings,
    results_dir: Path,
    env_name: str,
) -> CommandResult:
    environment = prepared.command_environment(settings.env_vars)
    program = _resolve_program(argv[0], package.path, environment["PATH"])
    if program is None:
        return CommandResult(
            argv,
            "error",
            None,
            f"command not found: {argv[0]!r} is not installed in the {env_name} "
            f"environment of {package.name}.\n",
            0.0,
        )
    command = [program, *argv[1:]]
    junit: Path | None = None
    if is_pytest(argv):
        junit = junit_argument(argv)
        if junit is None:
            junit = results_dir / f"{package.name}-{index}.xml"
            command.append(f"--junitxml={junit}")
        elif not junit.is_absolute():
            junit = package.path / junit
        junit.unlink(missing_ok=True)
    try:
        result = run_process(command, cwd=package.path, env=environment, timeout=settings.timeout)
    except CommandNotFoundError:
        return CommandResult(argv, "error", None, f"command not found: {argv[0]!r}\n", 0.0)
    counts = read_counts(junit) if junit is not None and junit.is_file() else None
    output = result.output
    passed = result.ok or (
        junit is not None and result.returncode == _PYTEST_NO_TESTS and not result.timed_out
    )
    if result.timed_out:
        output += f"\n[poetflow] timed out after {settings.timeout:g} s\n"
    return CommandResult(
        command=argv,
        status="passed" if passed else "failed",
        returncode=None if result.timed_out else result.returncode,
        output=output,
        duration=result.duration,
        counts=counts,
        junit=junit if counts is not None else None,
        timed_out=result.timed_out,
    )


def run_package_qa(context: _Context, package: Package) -> PackageReport:
    """One package's QA from start to end: prepare its environment, run its commands.

    This is where a package's QA begins and ends; pre-test and post-test hooks belong
    at its start and end.
    """
    started = time.monotonic()
    settings = package.config.test
    kind = context.options.env or settings.env
    try:
        prepared = context.environment(kind).prepare(package, timeout=None)
    except EnvironmentFailure as failure:
        return PackageReport(
            name=package.name,
            path=package.path,
            status=failure.status,
            env=kind,
            install=failure.install,
            duration=time.monotonic() - started,
            notes=failure.notes,
            error=failure.message,
        )
    notes = list(prepared.notes)
    context.fresh_results_dir(package)
    commands: list[CommandResult] = []
    for index, argv in enumerate(settings.commands):
        result = _run_command(package, argv, index, prepared, settings, context.results_dir, kind)
        commands.append(result)
    status: Literal["passed", "failed", "error"] = "passed"
    error = None
    if any(command.status == "error" for command in commands):
        status = "error"
        bad = next(command for command in commands if command.status == "error")
        where = "a dependency group of the package" if kind == "poetry" else "that environment"
        error = (
            f"{bad.command[0]!r} (from {bad.display!r}) was not found in the {kind} "
            f"environment of {package.name}; add it to {where} or fix the command"
        )
    elif any(command.status == "failed" for command in commands):
        status = "failed"
        bad = next(command for command in commands if command.status == "failed")
        error = f"{bad.display!r} failed in {package.name}"
    return PackageReport(
        name=package.name,
        path=package.path,
        status=status,
        env=kind,
        commands=tuple(commands),
        install=prepared.install,
        duration=time.monotonic() - started,
        notes=tuple(notes),
        error=error,
    )


def _qa_with_hooks(context: _Context, hooks: StageHooks, package: Package) -> PackageReport:
    """The cached result of the package when its inputs are unchanged; else run_package_qa
    between the package's pre-/post-test hooks (a failing hook fails it), stored when it
    passed. The cache never fails a package: when it breaks, the tests just run."""
    results = context.results
    key = None
    kind = context.options.env or package.config.test.env
    if results is not None:
        try:
            key = results.key(package, kind)
            context.fresh_results_dir(package)
            cached = results.replay(package, kind, key, context.results_dir)
        except Exception:
            logger.warning("task cache lookup for %s failed; testing it", package.name)
            logger.debug("cache lookup crashed", exc_info=True)
            key = cached = None
        if cached is not None:
            return cached
    report = _qa_between_hooks(context, hooks, package)
    if results is not None and key is not None:
        try:
            results.record(key, package, kind, report)
        except Exception:
            logger.warning("storing the result of %s in the task cache failed", package.name)
            logger.debug("cache store crashed", exc_info=True)
    return report


def _qa_between_hooks(context: _Context, hooks: StageHooks, package: Package) -> PackageReport:
    try:
        return hooks.run(
            package,
            lambda: run_package_qa(context, package),
            succeeded=lambda report: report.status == "passed",
        )
    except HookFailedError as exc:
        if isinstance(exc.result, PackageReport):  # post-test: keep the commands' results
            return replace(exc.result, status="failed", error=str(exc))
        return PackageReport(
            name=package.name,
            path=package.path,
            status="failed",
            env=context.options.env or "-",
            error=str(exc),
        )


@dataclass(frozen=True)
class PlannedPackage:
    """What ``poetflow test`` would do for one package (``--dry-run``)."""

    name: str
    env: EnvironmentKind
    environment: str
    commands: tuple[str, ...]


def plan_tests(
    workspace: Workspace, packages: Sequence[Package], options: TestOptions
) -> tuple[PlannedPackage, ...]:
    """The packages in the order they would start, their environments and commands;
    nothing is locked, installed, run or written."""
    import shlex

    context = _Context(workspace, options, packages)
    by_name = {package.name: package for package in packages}
    planned = []
    for name in workspace.graph.order(list(by_name), strict=False):
        package = by_name[name]
        settings = package.config.test
        kind = options.env or settings.env
        planned.append(
            PlannedPackage(
                name=name,
                env=kind,
                environment=context.environment(kind).plan(package),
                commands=tuple(shlex.join(argv) for argv in settings.commands),
            )
        )
    return tuple(planned)


def _is_failure(report: PackageReport) -> bool:
    return report.status in ("failed", "error")


def _note_failed_dependencies(
    workspace: Workspace, order: Sequence[str], results: Mapping[str, PackageReport]
) -> dict[str, PackageReport]:
    """Record, for each package, which of its runtime dependencies failed."""
    failed = {name for name, report in results.items() if _is_failure(report)}
    dependencies = {name: workspace.graph.dependencies_of(name) for name in order}
    noted = {}
    for name, report in results.items():
        deps = tuple(failed_dependencies(name, dependencies, failed, order))
        noted[name] = replace(report, failed_dependencies=deps) if deps else report
    return noted


def run_tests(
    workspace: Workspace,
    packages: Sequence[Package],
    options: TestOptions,
    on_event: Callable[[TestEvent], None] | None = None,
) -> TestReport:
    """Run the QA commands of ``packages``: runtime dependencies first, ``options.jobs``
    at a time, every package even after a failure unless ``fail_fast``.

    Raises PoetFlowError for bad configuration found before anything runs (exit 2);
    problems found in one package (a command not found, an outdated lock) are reported
    in that package with status ``error``.
    """
    started = time.monotonic()
    context = _Context(workspace, options, packages)
    hooks = StageHooks(workspace, "test", packages)  # a missing hook program: exit 2 here
    by_name = {package.name: package for package in packages}
    order = workspace.graph.order(list(by_name), strict=False)
    # Tests of different packages are independent (path dependencies are installed
    # editable): a dependent does not wait for its dependencies, which would serialise
    # every chain; a failed dependency is noted afterwards.
    scheduler: Scheduler[PackageReport] = Scheduler(
        order, jobs=options.jobs, wait=False, fail_fast=options.fail_fast, name="poetflow-test"
    )

    def skip(name: str) -> PackageReport:
        return PackageReport(
            name=name,
            path=by_name[name].path,
            status="skipped",
            env=options.env or "-",
            error="not run: --fail-fast stopped after an earlier failure",
        )

    def started_event(name: str) -> None:
        if on_event:
            on_event(TestEvent("started", name))

    def done_event(name: str, report: PackageReport) -> None:
        if on_event:
            kind: Literal["finished", "skipped"] = (
                "skipped" if report.status == "skipped" else "finished"
            )
            on_event(TestEvent(kind, name, report))

    context.open_cache()
    try:
        results = scheduler.run(
            lambda name: _qa_with_hooks(context, hooks, by_name[name]),
            is_failure=_is_failure,
            skip=skip,
            on_start=started_event,
            on_done=done_event,
        )
    finally:
        context.close()
    results = _note_failed_dependencies(workspace, order, results)
    reports = tuple(results[name] for name in order)
    duration = time.monotonic() - started
    junit = None
    if options.junit_xml is not None:
        junit = write_junit(reports, options.junit_xml, duration)
    report = TestReport(packages=reports, duration=duration, junit_xml=junit)
    hooks.finish(report, report.status == "passed")
    return report
