"""``poetflow lock``: keep every package's poetry.lock fresh, in dependency order."""

from __future__ import annotations

from typing import Annotated

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
from poetflow.cli.output import print_json, print_table, print_text, selected_from_options

__all__ = ["register"]

_EXAMPLES = """
Examples:

  poetflow lock --check          # CI: exit 1 listing the stale locks, change nothing

  poetflow lock --jobs 2

  poetflow lock -p acme-app --dry-run
"""

CheckOption = Annotated[
    bool,
    typer.Option("--check", help="Only check: exit 1 listing every lock that is out of date."),
]
JobsOption = Annotated[
    int,
    typer.Option("--jobs", "-j", envvar="POETFLOW_JOBS", min=1, help="Locks refreshed at once."),
]


@with_global_options
def lock(
    check: CheckOption = False,
    jobs: JobsOption = 1,
    all_: AllOption = False,
    package: PackageOption = None,
    since: SinceOption = None,
    report_dir: ReportDirOption = None,
    otel: OtelOption = None,
) -> None:
    """Check or refresh each selected package's poetry.lock, dependencies first.

    A lock whose content-hash no longer matches its pyproject.toml is relocked with
    `poetry lock` (Poetry 2 keeps every locked version); a fresh lock that still holds a
    member at an older version is updated in place, without Poetry. Fresh locks are left
    alone, so a second run does nothing.
    """
    from poetflow.cli.reporting import run_one_stage
    from poetflow.lockfile.refresh import LockReport
    from poetflow.pipeline.runner import RunOptions
    from poetflow.pipeline.stages.lock import LockStage

    options = current_options()
    writes = None if check else "poetflow lock"
    workspace, selected = selected_from_options(options.root, all_, package, since, writes=writes)
    run_options = RunOptions(
        dry_run=options.dry_run, jobs=jobs, report_dir=report_dir, telemetry_endpoint=otel
    )
    report = run_one_stage(
        "lock",
        LockStage(check=check, jobs=jobs),
        workspace,
        selected,
        run_options,
        LockReport,
        exit_code=lambda found: 1 if found.failed else 0,
    )
    if report is None:
        return
    if options.json:
        print_json(report.to_dict())
    elif not report.results:
        print_text("no poetry.lock files in the selected packages")
    else:
        changed = [r for r in report.results if r.action != "fresh"]
        if changed:
            print_table(
                None,
                ["package", "lock", "state", "action", "detail"],
                [[r.package, r.path, r.state, r.action, r.detail] for r in changed],
            )
        fresh = len(report.results) - len(changed)
        print_text(
            f"{len(report.results)} locks: {fresh} fresh"
            + "".join(
                f", {sum(1 for r in changed if r.action == action)} {action}"
                for action in dict.fromkeys(r.action for r in changed)
            )
            + f" ({report.duration:.2f} s)"
        )
    if report.failed:
        if options.json:
            raise typer.Exit(1)
        if check:
            stale = ", ".join(r.path for r in report.failed)
            print_text(f"out of date: {stale}; run `poetflow lock` to refresh them")
        else:
            for result in report.failed:
                if result.output:
                    print_text(result.output)
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("lock", epilog=examples(_EXAMPLES))(lock)
