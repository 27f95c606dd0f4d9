"""``poetflow publish``: upload what is not yet on the index, dependencies first."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from poetflow.cli.options import (
    AllOption,
    OtelOption,
    PackageOption,
    ReportDirOption,
    RepositoryOption,
    RepositoryUrlOption,
    SinceOption,
    current_options,
    examples,
    with_global_options,
)
from poetflow.cli.output import (
    print_json,
    print_table,
    selected_from_options,
)
from poetflow.errors import StepFailedError

if TYPE_CHECKING:
    from poetflow.publish.results import PublishEvent, PublishReport

__all__ = ["register"]

logger = logging.getLogger("poetflow.publish")

_EXAMPLES = """
Examples:

  POETFLOW_TOKEN_FILE=/run/secrets/pypi poetflow publish

  poetflow publish --repository internal --package api --dry-run

  poetflow publish --repository internal --repository pypi    # both indexes, one run

  poetflow publish --sign    # in CI with an OIDC identity (GitHub id-token: write)

  poetflow publish --repository-url http://127.0.0.1:8080/ --json

  poetflow publish --publisher NAME    # a poetflow.publishers plugin instead of an index
"""

JobsOption = Annotated[
    int,
    typer.Option("--jobs", "-j", envvar="POETFLOW_JOBS", min=1, help="Packages uploaded at once."),
]
BuildOption = Annotated[
    bool,
    typer.Option(
        "--build/--no-build",
        envvar="POETFLOW_PUBLISH_BUILD",
        help="Build what is missing or stale first (default), or publish dist/ as it is.",
    ),
]
SignOption = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(
        "--sign/--no-sign",
        envvar="POETFLOW_SIGN",
        help="Sign every file with Sigstore before uploading and send its PEP 740 attestation. "
        "Default: [tool.poetflow.publish] sign.",
        show_default=False,
    ),
]
PublisherOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--publisher",
        envvar="POETFLOW_PUBLISHER",
        help="Hand the files to this poetflow.publishers plugin instead of uploading to an "
        "index. Default: [tool.poetflow.publish] publisher.",
        show_default=False,
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        "--timeout", envvar="POETFLOW_PUBLISH_TIMEOUT", min=1.0, help="Seconds per HTTP request."
    ),
]


def _log_event(event: PublishEvent) -> None:
    if event.kind == "file-finished" and event.file is not None:
        item = event.file
        detail = f" ({item.detail})" if item.detail else ""
        where = f" [{event.target}]" if event.target else ""
        logger.info("%s: %s %s%s%s", event.package, item.status, item.filename, detail, where)
    elif event.kind == "package-finished" and event.result is not None:
        where, detail = event.target, event.result.detail
        if event.result.status == "blocked":
            logger.warning("%s: blocked on %s, %s", event.package, where, detail)
        elif event.result.status == "failed":
            logger.error("%s: failed on %s, %s", event.package, where, detail)


@with_global_options
def publish(
    all_: AllOption = False,
    package: PackageOption = None,
    since: SinceOption = None,
    repository: RepositoryOption = None,
    repository_url: RepositoryUrlOption = None,
    jobs: JobsOption = 4,
    timeout: TimeoutOption = 30.0,
    build: BuildOption = True,
    sign: SignOption = None,
    publisher: PublisherOption = None,
    report_dir: ReportDirOption = None,
    otel: OtelOption = None,
) -> None:
    """Upload each package's sdist and wheel to each index, skipping files already there.

    A package's own [tool.poetflow.publish] limits where it goes (repositories = [...]) or
    keeps it private (skip = true, or the 'Private :: Do Not Upload' classifier).
    """
    from poetflow.cli.reporting import run_one_stage
    from poetflow.pipeline.runner import RunOptions
    from poetflow.pipeline.stages.publish import PublishStage
    from poetflow.publish.results import PublishOptions, PublishRun

    # Every credential in the environment was registered as a secret when the CLI
    # started, and the CI system is told of each (minted tokens too) as it is registered.
    options = current_options()
    workspace, selected = selected_from_options(options.root, all_, package, since)
    publish_options = PublishOptions(
        repositories=tuple(repository or ()),
        repository_url=repository_url,
        dry_run=options.dry_run,
        jobs=jobs,
        timeout=timeout,
        build=build,
        sign=sign,
        publisher=publisher,
    )
    run_options = RunOptions(
        dry_run=options.dry_run, jobs=jobs, report_dir=report_dir, telemetry_endpoint=otel
    )
    report = run_one_stage(
        "publish",
        PublishStage(publish_options, _log_event),
        workspace,
        selected,
        run_options,
        PublishRun,
        exit_code=lambda done: 0 if done.ok else 1,
    )
    if report is None:
        logger.warning("No packages selected: nothing to publish.")
        return
    if options.json:
        print_json(report.to_dict())
    else:
        for each in report.reports:
            _print_report(each)
        for name, why in report.withheld.items():
            logger.info("%s: %s", name, why)
    if not report.ok:
        raise StepFailedError(
            f"Publishing failed for {', '.join(report.failed())}.",
            hint="Fix the cause shown above and rerun: files already uploaded are skipped.",
        )


def _size(size: int) -> str:
    return f"{size / 1024:.1f} KiB" if size < 1 << 20 else f"{size / (1 << 20):.1f} MiB"


def _print_report(report: PublishReport) -> None:
    rows = []
    for package in report.packages:
        for item in package.files:
            rows.append(
                [
                    item.package,
                    item.version,
                    item.filename,
                    item.status,
                    _size(item.size),
                    item.sha256[:12],
                    f"{item.duration:.2f}s",
                    item.url,
                ]
            )
        if not package.files:  # e.g. not built yet in a dry run
            rows.append([package.name, package.version, "-", package.status, "", "", "", ""])
    title = (
        f"{report.repository.name} ({report.repository.url}): {report.count('uploaded')} uploaded, "
        f"{report.count('skipped')} skipped, {report.count('failed')} failed, "
        f"{report.count('blocked')} blocked"
    )
    if report.dry_run:
        title += f", {report.count('would upload')} would upload (dry run)"
    print_table(
        title, ["package", "version", "file", "status", "size", "sha256", "time", "url"], rows
    )


def register(app: typer.Typer) -> None:
    app.command("publish", epilog=examples(_EXAMPLES))(publish)
