"""``poetflow test``: run every package's QA commands in its environment, in order."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from poetflow.cli.cache_options import (
    CacheReadOnlyOption,
    CacheUrlOption,
    NoCacheOption,
    cache_settings,
)
from poetflow.cli.options import (
    AllOption,
    OtelOption,
    PackageOption,
    ReportDirOption,
    SinceOption,
    current_options,
    examples,
    with_global_options,
)
from poetflow.cli.output import (
    print_json,
    print_table,
    print_text,
    selected_from_options,
)

if TYPE_CHECKING:
    from poetflow.qa.engine import TestEvent
    from poetflow.qa.results import PackageReport, TestReport

__all__ = ["register"]

logger = logging.getLogger("poetflow.test")

_EXAMPLES = """
Examples:

  poetflow test

  poetflow test --since origin/main --jobs 2 --junit-xml reports/junit.xml

  poetflow test -p acme-core --env current -v

  poetflow test --cache-url https://cache.example.com/poetflow --cache-read-only
"""

EnvOption = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional on Python 3.10
    typer.Option(
        "--env",
        envvar="POETFLOW_TEST_ENV",
        help="poetry (each package's own Poetry env), shared (one env for the workspace) "
        "or current (this interpreter). Default: [tool.poetflow.test] env, else poetry.",
        show_default=False,
    ),
]
JobsOption = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        "--jobs",
        "-j",
        envvar="POETFLOW_JOBS",
        min=1,
        help="Packages tested at once. Default: the number of CPUs.",
        show_default=False,
    ),
]
FailFastOption = Annotated[
    bool, typer.Option("--fail-fast", help="Start no new package after the first failure.")
]
JunitOption = Annotated[
    Optional[Path],  # noqa: UP045
    typer.Option(
        "--junit-xml",
        envvar="POETFLOW_JUNIT_XML",
        help="Write one JUnit XML file aggregating every package.",
        show_default=False,
    ),
]
VerboseOption = Annotated[
    bool, typer.Option("--verbose", "-v", help="Show every package's output, not only failures.")
]

_ENVS = ("poetry", "shared", "current")


def _show_package(report: PackageReport, verbose: bool) -> None:
    """A package's captured output, in one block (never interleaved with another's)."""
    counts = report.counts
    tests = f", {counts.tests} tests" if counts.tests else ""
    line = f"{report.name}: {report.status} in {report.duration:.1f}s{tests}"
    if report.cache is not None:
        before = report.cache.original_duration
        line = (
            f"{report.name}: cached (passed in {before:.1f}s before, {report.cache.origin}){tests}"
        )
    notes = "".join(f"\n  note: {note}" for note in report.notes)
    show_output = verbose or report.status in ("failed", "error")
    if report.status == "skipped":
        print_text(f"== {report.name}: skipped ({report.error})")
        return
    if not show_output:
        print_text(f"== {line}{notes}")
        return
    print_text(f"== {line}{notes}\n{report.output}")


def _summary_rows(report: TestReport) -> list[list[str]]:
    rows = []
    for package in report.packages:
        install: str = package.install.action
        if package.install.action in ("installed", "failed"):
            install = f"{package.install.action} {package.install.duration:.1f}s"
            if package.install.installer:
                install += f" ({package.install.installer})"
        if package.install.locked:
            install += " (locked)"
        if package.status == "cached":
            total = package.counts
            tests = f"{total.passed}/{total.tests}" if total.tests else "-"
            # A cached package always has its cache record; the status alone says "cached".
            origin = f" ({package.cache.origin})" if package.cache else ""
            commands = "; ".join(command.display for command in package.commands) or "-"
            rows.append(
                [
                    package.name,
                    commands,
                    f"cached{origin}",
                    "-",
                    tests,
                    f"{package.duration:.1f}s",
                ]
            )
            continue
        if not package.commands:
            status: str = package.status
            if package.failed_dependencies:
                status += f" (dependency {', '.join(package.failed_dependencies)} failed)"
            rows.append([package.name, "-", status, install, "-", f"{package.duration:.1f}s"])
        for command in package.commands:
            counts = command.counts
            tests = "-"
            if counts is not None:
                passed = counts.tests - counts.failures - counts.errors - counts.skipped
                tests = f"{passed}/{counts.tests}"
            result: str = command.status
            if package.failed_dependencies:
                result += f" (dependency {', '.join(package.failed_dependencies)} failed)"
            rows.append(
                [package.name, command.display, result, install, tests, f"{command.duration:.1f}s"]
            )
    return rows


def _failure_summary(report: TestReport) -> str:
    lines = []
    for package in report.packages:
        if package.status in ("failed", "error"):
            notes = [*package.notes]
            notes += [f"dependency {name} failed" for name in package.failed_dependencies]
            hint = f" ({'; '.join(notes)})" if notes else ""
            lines.append(f"{package.name}: {package.error}{hint}")
    return "\n".join(lines)


@with_global_options
def qa_command(
    all_: AllOption = False,
    package: PackageOption = None,
    since: SinceOption = None,
    env: EnvOption = None,
    jobs: JobsOption = None,
    fail_fast: FailFastOption = False,
    junit_xml: JunitOption = None,
    verbose: VerboseOption = False,
    no_cache: NoCacheOption = False,
    cache_url: CacheUrlOption = None,
    cache_read_only: CacheReadOnlyOption = None,
    report_dir: ReportDirOption = None,
    otel: OtelOption = None,
) -> None:
    """Run each package's QA commands (tests, linters, type checkers) in its environment,
    dependencies first; exit 1 when any fails, 2 on bad configuration. A package whose
    inputs are unchanged since it passed is not run again: it is reported as cached."""
    from poetflow.cli.reporting import run_one_stage
    from poetflow.pipeline.runner import RunOptions
    from poetflow.pipeline.stages.test import TestStage
    from poetflow.qa.engine import TestOptions
    from poetflow.qa.results import TestReport

    if env is not None and env not in _ENVS:
        raise typer.BadParameter(f"{env!r} is not one of {', '.join(_ENVS)}.", param_hint="--env")
    options = current_options()
    workspace, selected = selected_from_options(options.root, all_, package, since)
    if not selected:
        logger.warning("No packages selected: nothing to test.")
        if options.json:
            print_json({"status": "passed", "exit_code": 0, "packages": []})
        return
    jobs = jobs or os.cpu_count() or 1
    test_options = TestOptions(
        env=env,  # type: ignore[arg-type]  # checked against _ENVS above
        jobs=jobs,
        fail_fast=fail_fast,
        junit_xml=junit_xml.resolve() if junit_xml else None,
        cache=cache_settings(
            workspace, no_cache=no_cache, url=cache_url, read_only=cache_read_only
        ),
    )

    def on_event(event: TestEvent) -> None:
        if event.kind == "started":
            logger.info("testing %s ...", event.package)
        elif event.report is not None and not options.json:
            _show_package(event.report, verbose)

    run_options = RunOptions(
        dry_run=options.dry_run, jobs=jobs, report_dir=report_dir, telemetry_endpoint=otel
    )
    stage = TestStage(test_options, on_event)
    if options.dry_run:  # the stage returns the plan: what would start, where, in order
        planned = run_one_stage(
            "test", stage, workspace, selected, run_options, tuple, exit_code=lambda _plan: 0
        )
        _show_plan(planned, options.json)
        return
    report = run_one_stage(
        "test",
        stage,
        workspace,
        selected,
        run_options,
        TestReport,
        exit_code=lambda done: done.exit_code,
    )
    if report is None:
        return
    if options.json:
        print_json(report.to_dict())
    else:
        cached = f", {report.cached} cached" if report.cached else ""
        print_table(
            f"poetflow test: {report.status} in {report.duration:.1f}s{cached}",
            ["package", "command", "result", "install", "tests passed", "duration"],
            _summary_rows(report),
        )
        if report.junit_xml:
            print_text(f"JUnit XML: {report.junit_xml}")
    failures = _failure_summary(report)
    if failures:
        logger.error("%s", failures)
    if report.exit_code:
        raise typer.Exit(report.exit_code)


def _show_plan(planned: object, as_json: bool) -> None:
    """``--dry-run``: the packages in the order they would start, environments, commands."""
    from poetflow.qa.engine import PlannedPackage

    packages = (
        [p for p in planned if isinstance(p, PlannedPackage)] if isinstance(planned, tuple) else []
    )
    if as_json:
        print_json(
            {
                "dry_run": True,
                "packages": [
                    {
                        "name": p.name,
                        "env": p.env,
                        "environment": p.environment,
                        "commands": list(p.commands),
                    }
                    for p in packages
                ],
            }
        )
        return
    print_table(
        f"poetflow test --dry-run: {len(packages)} package{'' if len(packages) == 1 else 's'}, "
        "in this order",
        ["package", "env", "environment", "commands"],
        [[p.name, p.env, p.environment, "; ".join(p.commands)] for p in packages],
    )


def register(app: typer.Typer) -> None:
    app.command("test", epilog=examples(_EXAMPLES))(qa_command)
