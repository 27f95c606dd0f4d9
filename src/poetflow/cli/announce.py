"""``poetflow announce``: the GitHub or GitLab release of each release tag, made or updated."""

from __future__ import annotations

import logging
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
from poetflow.errors import StepFailedError

if TYPE_CHECKING:
    from poetflow.announce.engine import AnnounceReport

__all__ = ["register"]

logger = logging.getLogger("poetflow.announce")

_EXAMPLES = """
Examples:

  GITHUB_TOKEN=... poetflow announce    # the releases of the tags at HEAD

  poetflow announce --package acme-core --dry-run

  poetflow announce --tag acme-core-v1.3.0 --json
"""

TagOption = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option(
        "--tag",
        "-t",
        help="A release tag to announce (repeatable). Default: the selected packages' "
        "current-version tags; without a selection, those that point at HEAD.",
        show_default=False,
    ),
]


@with_global_options
def announce(
    all_: AllOption = False,
    package: PackageOption = None,
    since: SinceOption = None,
    tag: TagOption = None,
    report_dir: ReportDirOption = None,
    otel: OtelOption = None,
) -> None:
    """Create or update the GitHub / GitLab release of each release tag.

    The body is the package's changelog section for that version, the assets its sdist,
    wheel and Sigstore bundles. Safe to rerun: releases are found by tag and files
    already there with the same sha256 are not uploaded again.
    """
    from poetflow.announce.engine import AnnounceReport, tagged_at_head
    from poetflow.cli.reporting import run_one_stage
    from poetflow.pipeline.runner import RunOptions
    from poetflow.pipeline.stages.announce import AnnounceStage

    options = current_options()
    workspace, selected = selected_from_options(options.root, all_, package, since)
    explicit = bool(all_ or package or since)
    tags = list(tag or ()) or tagged_at_head(workspace, selected, at_head=not explicit)
    run_options = RunOptions(
        dry_run=options.dry_run, report_dir=report_dir, telemetry_endpoint=otel
    )
    report = run_one_stage(
        "announce",
        AnnounceStage(tags),
        workspace,
        selected,
        run_options,
        AnnounceReport,
        exit_code=lambda done: 0 if done.ok else 1,
    )
    if report is None:
        logger.warning(
            "Nothing announced: %s",
            "no release tags" if not tags else "no code host ([tool.poetflow.announce] provider)",
        )
        if options.json:
            print_json({"provider": None, "dry_run": options.dry_run, "releases": []})
        return
    if options.json:
        print_json(report.to_dict())
    else:
        _print_report(report)
    if not report.ok:
        bad = [r.tag for r in report.releases if not r.ok]
        raise StepFailedError(
            f"Announcing on {report.provider} failed for {', '.join(bad)}.",
            hint="Fix the cause shown above and rerun `poetflow announce`: what is there is kept.",
        )


def _print_report(report: AnnounceReport) -> None:
    rows = []
    for release in report.releases:
        result = release.result
        rows.append(
            [
                release.tag,
                ", ".join(release.packages),
                result.status if result else "failed",
                str(len(result.uploaded)) if result else "-",
                str(len(result.kept)) if result else "-",
                (result.url or "") if result else (release.error or ""),
            ]
        )
    title = f"{report.provider} releases" + (" (dry run)" if report.dry_run else "")
    print_table(title, ["tag", "packages", "status", "uploaded", "kept", "url"], rows)


def register(app: typer.Typer) -> None:
    app.command("announce", epilog=examples(_EXAMPLES))(announce)
