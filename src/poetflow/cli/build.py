"""``poetflow build``: sdists and wheels for every package, dependencies first, path deps pinned."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any, Optional

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
    Cell,
    print_json,
    print_table,
    print_text,
    selected_from_options,
)
from poetflow.errors import StepFailedError

if TYPE_CHECKING:
    from poetflow.build.results import BuildEvent, BuildReport, PackageBuild
    from poetflow.build.template import WorkerTemplate
    from poetflow.workspace import Workspace

__all__ = ["register"]

logger = logging.getLogger("poetflow.build")

_EXAMPLES = """
Examples:

  poetflow build

  poetflow build --since origin/main --jobs 4 --json

  poetflow build -p acme-app --force --builder poetry

  poetflow build --dry-run

  poetflow build --cache-url https://cache.example.com/poetflow
"""

_BUILDERS = ("core", "poetry")

JobsOption = Annotated[
    Optional[int],  # noqa: UP045 - typer needs Optional on Python 3.10
    typer.Option(
        "--jobs",
        "-j",
        envvar="POETFLOW_JOBS",
        min=1,
        help="Packages built at once. Default: the number of CPUs.",
        show_default=False,
    ),
]
ForceOption = Annotated[bool, typer.Option("--force", help="Rebuild packages that are up to date.")]
BuilderOption = Annotated[
    str,
    typer.Option(
        "--builder",
        envvar="POETFLOW_BUILDER",
        help="core: poetry-core in-process (fast); poetry: the `poetry build` command, for "
        "projects that need a Poetry plugin at build time. Other build backends always "
        "build through PEP 517.",
    ),
]


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024 or unit == "MiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} MiB"  # pragma: no cover


def _rows(report: BuildReport) -> list[list[Cell]]:
    rows: list[list[Cell]] = []
    for package in report.packages:
        artifacts = [artifact.filename for artifact in package.artifacts] or "-"
        status: str = package.status
        if package.status in ("would build", "built") and package.reason:
            status += f" ({package.reason})"
        rows.append(
            [
                package.name,
                package.version or "-",
                artifacts,
                _size(package.size) if package.artifacts else "-",
                f"{package.duration:.2f}s",
                status,
            ]
        )
    return rows


def _package_json(package: PackageBuild) -> dict[str, Any]:
    return {
        "name": package.name,
        "version": package.version,
        "status": package.status,
        "reason": package.reason,
        "backend": package.backend,
        "duration": round(package.duration, 4),
        "error": package.error,
        "artifacts": [
            {
                "path": str(artifact.path),
                "filename": artifact.filename,
                "kind": artifact.kind,
                "sha256": artifact.sha256,
                "size": artifact.size,
            }
            for artifact in package.artifacts
        ],
    }


def report_json(workspace: Workspace, report: BuildReport) -> dict[str, Any]:
    """The ``--json`` document (also usable by a pipeline report)."""
    return {
        "root": str(workspace.root),
        "status": "passed" if report.ok else "failed",
        "exit_code": 0 if report.ok else 1,
        "dry_run": report.dry_run,
        "duration": round(report.duration, 4),
        "packages": [_package_json(package) for package in report.packages],
    }


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[BuildEvent], None]]:
    """A rich progress bar on stderr when it is a terminal; a log line per package otherwise."""
    if not enabled:

        def log_event(event: BuildEvent) -> None:
            if event.kind == "finished" and event.result is not None:
                logger.debug("%s: %s", event.package, event.result.status)

        yield log_event
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)
    with Progress(
        TextColumn("building"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}", markup=False),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("", total=None)
        active: list[str] = []

        def on_event(event: BuildEvent) -> None:
            if event.kind == "planned":
                progress.update(task, total=event.total)
            elif event.kind == "started":
                active.append(event.package)
            elif event.kind == "finished":
                if event.package in active:
                    active.remove(event.package)
                progress.advance(task)
            progress.update(task, description=", ".join(active[:3]))

        yield on_event


@contextmanager
def _worker_template(
    jobs: int | None, builder: str, dry_run: bool
) -> Iterator[WorkerTemplate | None]:
    """The build workers' template when this build may fork workers; closed at the end
    whatever happens (the build closes it sooner when it needs no workers)."""
    from poetflow.build.template import WorkerTemplate, available_cores

    template = None
    if not dry_run and builder == "core":
        template = WorkerTemplate.take(jobs or available_cores())
    else:
        WorkerTemplate.discard_prestarted()
    try:
        yield template
    finally:
        if template is not None:
            template.close()


@with_global_options
def build(
    all_: AllOption = False,
    package: PackageOption = None,
    since: SinceOption = None,
    jobs: JobsOption = None,
    force: ForceOption = False,
    builder: BuilderOption = "core",
    no_cache: NoCacheOption = False,
    cache_url: CacheUrlOption = None,
    cache_read_only: CacheReadOnlyOption = None,
    report_dir: ReportDirOption = None,
    otel: OtelOption = None,
) -> None:
    """Build an sdist and a wheel into each package's dist/, dependencies first, with
    internal path dependencies pinned to versions; skip what is up to date."""
    if builder not in _BUILDERS:
        raise typer.BadParameter(
            f"{builder!r} is not one of {', '.join(_BUILDERS)}.", param_hint="--builder"
        )
    options = current_options()
    # Forked before anything else is loaded or read: it warms poetry-core up meanwhile.
    with _worker_template(jobs, builder, options.dry_run) as template:
        from poetflow.build.results import BuildOptions, BuildReport
        from poetflow.cli.reporting import run_one_stage
        from poetflow.pipeline.runner import RunOptions
        from poetflow.pipeline.stages.build import BuildStage

        workspace, selected = selected_from_options(
            options.root, all_, package, since, writes="poetflow build"
        )
        build_options = BuildOptions(
            jobs=jobs,
            force=force,
            dry_run=options.dry_run,
            builder="poetry" if builder == "poetry" else "core",
            cache=cache_settings(
                workspace, no_cache=no_cache, url=cache_url, read_only=cache_read_only
            ),
            template=template,
        )
        show_progress = not options.json and sys.stderr.isatty()
        run_options = RunOptions(
            dry_run=options.dry_run,
            jobs=jobs or 2,
            report_dir=report_dir,
            telemetry_endpoint=otel,
        )
        with _progress(show_progress) as on_event:
            engine_report = run_one_stage(
                "build",
                BuildStage(build_options, on_event),
                workspace,
                selected,
                run_options,
                BuildReport,
                exit_code=lambda report: 0 if report.ok else 1,
            )
        report = engine_report or BuildReport((), 0.0, dry_run=options.dry_run)
        if options.json:
            print_json(report_json(workspace, report))
        else:
            built = sum(1 for p in report.packages if p.status == "built")
            cached = sum(1 for p in report.packages if p.status == "cached")
            title = (
                f"poetflow build --dry-run: {len(report.packages)} packages"
                if report.dry_run
                else f"poetflow build: {built} built, "
                + (f"{cached} from the cache, " if cached else "")
                + f"{sum(1 for p in report.packages if p.status == 'up to date')} up to date "
                f"in {report.duration:.2f}s"
            )
            # Off a terminal print_table does not load rich: a 50-package summary costs rich
            # a quarter of a second, as much as a no-change build.
            columns = ["package", "version", "artifacts", "size", "time", "status"]
            print_table(title, columns, _rows(report))

            if not report.packages:
                print_text("No packages selected: nothing to build.")
        if not report.ok:
            failed = report.failed
            for item in failed:
                logger.error("%s failed to build: %s", item.name, item.error)
            blocked = [p.name for p in report.packages if p.status == "blocked"]
            names = ", ".join(item.name for item in failed)
            detail = f" ({', '.join(blocked)} blocked)" if blocked else ""
            raise StepFailedError(f"Build failed for {names}{detail}.")


def register(app: typer.Typer) -> None:
    app.command("build", epilog=examples(_EXAMPLES))(build)
