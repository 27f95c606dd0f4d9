"""``poetflow release-pr``: the next release as a pull / merge request, opened or updated."""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING, Annotated, Optional

import typer

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
from poetflow.cli.output import print_json, print_table, selected_from_options

if TYPE_CHECKING:
    from poetflow.pipeline.runner import RunContext, Stage, StageOutcome
    from poetflow.release_pr.engine import ReleasePrOptions, ReleasePrReport

__all__ = ["register"]

logger = logging.getLogger("poetflow.release_pr")

_EXAMPLES = """
Examples:

  GITHUB_TOKEN=... poetflow release-pr     # open or update the release pull request

  poetflow release-pr --branch release/next --dry-run

  poetflow release-pr --base main --json
"""

BranchOption = Annotated[
    str,
    typer.Option(
        "--branch",
        envvar="POETFLOW_RELEASE_BRANCH",
        help="The branch that holds the release commit (force-pushed; the pull request's head).",
    ),
]
BaseOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--base",
        envvar="POETFLOW_RELEASE_BASE",
        help="The branch the release merges into. Default: the branch checked out (in CI on "
        "a detached HEAD: CI_COMMIT_BRANCH / GITHUB_REF_NAME).",
        show_default=False,
    ),
]


def _stage(options: ReleasePrOptions) -> Stage:
    from poetflow.pipeline.runner import CallStage, PackageFacts, PackageOutcome, StageOutcome
    from poetflow.release_pr.engine import release_pr

    def body(ctx: RunContext) -> StageOutcome:
        report = release_pr(ctx.workspace, ctx.selected, options, os.environ)
        packages = {
            name: PackageOutcome("planned", f"{current or '-'} -> {nxt}", facts=PackageFacts(nxt))
            for name, current, nxt in report.releases
        }
        where = f" #{report.number}" if report.number else ""
        summary = f"{report.provider} pull request{where}: {report.action}"
        return StageOutcome("release-pr", "succeeded", summary, packages, report=report)

    return CallStage("release-pr", body)


@with_global_options
def release_pr(
    all_: AllOption = False,
    package: PackageOption = None,
    since: SinceOption = None,
    branch: BranchOption = "poetflow/release",
    base: BaseOption = None,
    report_dir: ReportDirOption = None,
    otel: OtelOption = None,
) -> None:
    """Open or update the release pull request (GitHub) or merge request (GitLab).

    Plans the release like `poetflow run`, writes versions, constraints, locks and
    changelogs into one commit on --branch (the work tree stays as it is), force-pushes
    it and keeps one pull request from it up to date; with nothing to release an open
    one is closed. Merging it makes `poetflow run` tag and publish exactly those versions.
    """
    from poetflow.cli.reporting import run_one_stage
    from poetflow.pipeline.runner import RunOptions
    from poetflow.release_pr.engine import ReleasePrOptions, ReleasePrReport

    options = current_options()
    workspace, selected = selected_from_options(
        options.root, all_, package, since, writes="poetflow release-pr"
    )
    run_options = RunOptions(
        dry_run=options.dry_run, report_dir=report_dir, telemetry_endpoint=otel
    )
    stage = _stage(ReleasePrOptions(branch=branch, base=base, dry_run=options.dry_run))
    report = run_one_stage(
        "release-pr",
        stage,
        workspace,
        selected,
        run_options,
        ReleasePrReport,
        exit_code=lambda done: 0,
    )
    if report is None:
        return
    if options.json:
        print_json(report.to_dict())
    else:
        _print_report(report)


def _print_report(report: ReleasePrReport) -> None:
    rows = [[name, current or "-", nxt] for name, current, nxt in report.releases]
    where = f" #{report.number}" if report.number else ""
    title = f"{report.provider} release pull request{where}: {report.action}" + (
        f" ({report.url})" if report.url else ""
    )
    print_table(title, ["package", "current", "next"], rows)


def register(app: typer.Typer) -> None:
    app.command("release-pr", epilog=examples(_EXAMPLES))(release_pr)
