"""``poetflow run``: the whole pipeline, the way CI runs it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional
from urllib.parse import urlsplit

import typer

from poetflow.cli.cache_options import (
    CacheReadOnlyOption,
    CacheUrlOption,
    NoCacheOption,
    cache_settings,
)
from poetflow.cli.options import (
    ChangedOrAllOption,
    OtelOption,
    PackageOption,
    ReportDirOption,
    RepositoryOption,
    RepositoryUrlOption,
    SinceOption,
    current_options,
    examples,
    make_selection,
    with_global_options,
)
from poetflow.cli.output import (
    Cell,
    print_json,
    print_table,
    print_text,
    workspace_from_options,
)
from poetflow.errors import StepFailedError
from poetflow.pipeline.stages import STAGE_NAMES

# The registry is plain data (no stage module is imported): new stages show up here.
_STAGE_LIST = ", ".join(STAGE_NAMES)

if TYPE_CHECKING:
    from poetflow.report import PackageRecord

__all__ = ["register"]

_EXAMPLES = """
Examples:

  poetflow run --repository internal

  poetflow run --repository internal --repository pypi --dry-run

  poetflow run --stages test,build --all

  poetflow run --skip publish --dry-run --json

  poetflow run --sign --push --report-dir reports/
"""


def _split(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return tuple(item.strip() for item in value.split(",") if item.strip())


@with_global_options
def run(
    all_: ChangedOrAllOption = False,
    package: PackageOption = None,
    since: SinceOption = None,
    stages: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--stages",
            envvar="POETFLOW_STAGES",
            help=f"Comma-separated stages to run: {_STAGE_LIST}. "
            "Default: all, or [tool.poetflow.pipeline] stages.",
            show_default=False,
        ),
    ] = None,
    skip: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--skip",
            envvar="POETFLOW_SKIP",
            help=f"Comma-separated stages to leave out: {_STAGE_LIST}. "
            "Also [tool.poetflow.pipeline] skip.",
            show_default=False,
        ),
    ] = None,
    repository: RepositoryOption = None,
    repository_url: RepositoryUrlOption = None,
    sign: Annotated[
        Optional[bool],  # noqa: UP045
        typer.Option(
            "--sign/--no-sign",
            envvar="POETFLOW_SIGN",
            help="Sign every artifact with Sigstore before the upload.",
            show_default=False,
        ),
    ] = None,
    push: Annotated[
        bool,
        typer.Option(
            "--push/--no-push",
            envvar="POETFLOW_PUSH",
            help="Push the release commit and tags to origin.",
        ),
    ] = False,
    test_env: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--env",
            envvar="POETFLOW_TEST_ENV",
            help="Test environment: poetry, shared or current.",
            show_default=False,
        ),
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", envvar="POETFLOW_JOBS", min=1, help="Parallel jobs.")
    ] = 2,
    report_dir: ReportDirOption = None,
    allow_dirty: Annotated[
        bool,
        typer.Option(
            "--allow-dirty",
            envvar="POETFLOW_ALLOW_DIRTY",
            help="Release even with uncommitted changes in the packages (they would be built "
            "into artifacts their tag does not contain). Also [tool.poetflow.pipeline] "
            "allow-dirty.",
        ),
    ] = False,
    no_cache: NoCacheOption = False,
    cache_url: CacheUrlOption = None,
    cache_read_only: CacheReadOnlyOption = None,
    otel: OtelOption = None,
) -> None:
    """Run the release pipeline: test, version, changelog, build, sign, commit/tag, publish,
    announce.

    Without --all/--package/--since, the packages with commits since their last release
    (and their dependents) are released. A rerun after a failure picks up where it stopped:
    versions written by a failed run are restored, and publish skips what is there.
    """
    from poetflow.cli.reporting import finish_command, report_directory
    from poetflow.pipeline.engine import RunOptions, run_pipeline

    options = current_options()
    workspace = workspace_from_options(options.root, writes="poetflow run")
    if test_env is not None and test_env not in ("poetry", "shared", "current"):
        raise typer.BadParameter(
            f"{test_env!r} is not poetry, shared or current.", param_hint="--env"
        )
    directory = report_directory(report_dir)

    def progress(event: str, name: str, outcome: object) -> None:
        if options.json:
            return
        if event == "started":
            print_text(f"==> {name}")
        elif outcome is not None:
            print_text(
                f"    {name}: {getattr(outcome, 'status', '')} {getattr(outcome, 'summary', '')}"
            )

    run_options = RunOptions(
        stages=_split(stages),
        skip=_split(skip) or (),
        dry_run=options.dry_run,
        sign=sign,
        push=push,
        repositories=tuple(repository or ()),
        repository_url=repository_url,
        test_env=test_env,
        jobs=jobs,
        report_dir=directory,
        telemetry_endpoint=otel,
        allow_dirty=allow_dirty,
        cache=cache_settings(
            workspace, no_cache=no_cache, url=cache_url, read_only=cache_read_only
        ),
    )
    outcome = run_pipeline(
        workspace, make_selection(all_, package, since), run_options, on_stage=progress
    )
    failed = outcome.result.failed_stage
    report, path = finish_command(
        "run",
        outcome.result,
        outcome.workspace,
        exit_code=1 if failed else 0,
        options=run_options,
        names=outcome.selected,
        versions_before=outcome.versions_before,
    )
    if options.json:
        print_json({**report.to_dict(), "report_file": str(path) if path else None})
    else:
        print_table(
            "poetflow run" + (" --dry-run" if options.dry_run else ""),
            ["package", "version", "stages", "artifacts", "published to"],
            [_run_row(p) for p in report.packages],
        )
        if path is not None:
            print_text(f"report: {path}")
    if failed is not None:
        details = [
            f"{name}: {entry.detail}" for name, entry in failed.packages.items() if entry.failed
        ]
        for entry in failed.packages.values():
            if entry.failed and entry.facts.output:
                print_text(entry.facts.output)
        raise StepFailedError(
            f"The {failed.name} stage failed: {failed.summary}."
            + (f" ({'; '.join(details)})" if details else ""),
            hint="Fix it and run again: the pipeline resumes where it stopped.",
        )


def _run_row(package: PackageRecord) -> list[Cell]:
    """A package's line: file names, not paths; the indexes, not every file's URL (those
    are in --json and the report)."""
    before, after = package.version_before, package.version_after
    version = f"{before} -> {after}" if before != after else str(after or "-")
    # The version column already says what the version stage did.
    stages = [f"{s.name}: {s.status}" for s in package.stages if s.name != "version" or s.failed]
    hosts = dict.fromkeys(urlsplit(url).netloc or url for url in package.published_to)
    return [
        package.name,
        version,
        ", ".join(stages) or "-",
        [Path(a.path).name for a in package.artifacts] or "-",
        list(hosts) or "-",
    ]


def register(app: typer.Typer) -> None:
    app.command("run", epilog=examples(_EXAMPLES))(run)
