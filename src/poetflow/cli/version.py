"""``poetflow version bump`` / ``poetflow version set``: new versions from conventional commits."""

from __future__ import annotations

from pathlib import Path
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
from poetflow.cli.output import (
    print_json,
    print_table,
    print_text,
    selected_from_options,
)

if TYPE_CHECKING:
    from poetflow.cli.options import GlobalOptions
    from poetflow.versioning.plan import VersionPlan
    from poetflow.versioning.release import VersionResult
    from poetflow.workspace import Workspace

__all__ = ["register"]

_EXAMPLES = """
Examples:

  poetflow version bump --dry-run

  poetflow version bump auto --changelog --commit --tag --push

  poetflow version bump prerelease --pre rc -p acme-core

  poetflow version set 2.0.0 -p acme-core
"""

version_app = typer.Typer(
    name="version",
    help="Bump or set package versions; dependents' constraints follow.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

PreOption = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional on Python 3.10
    typer.Option("--pre", help="Make a pre-release: rc, a or b.", show_default=False),
]
CommitOption = Annotated[
    bool, typer.Option("--commit", help="Commit the changed files in one release commit.")
]
TagOption = Annotated[
    bool, typer.Option("--tag", help="Create an annotated tag per release (tag-format).")
]
PushOption = Annotated[bool, typer.Option("--push", help="Push the release commit and tags.")]
ChangelogOption = Annotated[
    bool, typer.Option("--changelog", help="Write the changelogs in the same step.")
]


def _apply_and_report(
    workspace: Workspace,
    plan: VersionPlan,
    *,
    changelog: bool,
    commit: bool,
    tag: bool,
    push: bool,
    options: GlobalOptions,
    report_dir: Path | None,
    otel: str | None,
    command: str,
) -> None:
    """Write the plan (bump and set share this), report it and print what was done."""
    from poetflow.cli.reporting import run_one_stage
    from poetflow.pipeline.runner import CallStage, RunContext, RunOptions, StageOutcome
    from poetflow.pipeline.stages.version import version_outcomes
    from poetflow.versioning.release import VersionResult, apply_plan

    def write(ctx: RunContext) -> StageOutcome:
        result = apply_plan(
            ctx.workspace,
            plan,
            changelog=changelog,
            commit=commit,
            tag=tag,
            push=push,
            dry_run=options.dry_run,
            command=command,
        )
        summary = ", ".join(f"{e.name} {e.current} -> {e.next}" for e in plan.releases)
        return StageOutcome(
            "version",
            "succeeded",
            summary or "nothing to release",
            version_outcomes(plan),
            report=result,
        )

    run_options = RunOptions(
        dry_run=options.dry_run, report_dir=report_dir, telemetry_endpoint=otel
    )
    result = run_one_stage(
        "version",
        CallStage("version", write),
        workspace,
        [],
        run_options,
        VersionResult,
        exit_code=lambda _result: 0,
        reload=True,
    )
    if result is not None:
        _report(result, options.json)


def _report(result: VersionResult, json_output: bool) -> None:
    if json_output:
        print_json(result.to_dict())
        return
    plan = result.plan
    if not plan.releases:
        print_text("nothing to release")
        return
    rows = [
        [
            entry.name,
            entry.current or "-",
            entry.next or "-",
            entry.bump or "-",
            str(entry.commits),
            "; ".join(entry.reasons) or "-",
        ]
        for entry in plan.packages
        if entry.changed or entry.constraint_updates
    ]
    verb = "would release" if result.dry_run else "released"
    print_table(
        f"{len(plan.releases)} packages {verb}",
        ["package", "current", "next", "bump", "commits", "reasons"],
        rows,
    )
    if result.commit:
        print_text(f"release commit {result.commit[:12]}")
    if result.tags:
        print_text(("would tag " if result.dry_run else "tagged ") + ", ".join(result.tags))
    if result.pushed:
        print_text("pushed the release commit and tags")


@with_global_options
def bump(
    level: Annotated[
        str, typer.Argument(help="auto (from commits), major, minor, patch or prerelease.")
    ] = "auto",
    pre: PreOption = None,
    commit: CommitOption = False,
    tag: TagOption = False,
    push: PushOption = False,
    changelog: ChangelogOption = False,
    all_: AllOption = False,
    package: PackageOption = None,
    since: SinceOption = None,
    report_dir: ReportDirOption = None,
    otel: OtelOption = None,
) -> None:
    """Compute and write the next versions of the selected packages."""
    from poetflow.versioning.plan import plan_versions

    options = current_options()
    workspace, selected = selected_from_options(
        options.root, all_, package, since, writes="poetflow version bump"
    )
    plan = plan_versions(workspace, selected, bump=level.lower(), pre=pre)
    _apply_and_report(
        workspace,
        plan,
        changelog=changelog,
        commit=commit,
        tag=tag,
        push=push,
        options=options,
        report_dir=report_dir,
        otel=otel,
        command="poetflow version bump",
    )


@with_global_options
def set_(
    new_version: Annotated[str, typer.Argument(metavar="VERSION", help="A PEP 440 version.")],
    allow_downgrade: Annotated[
        bool, typer.Option("--allow-downgrade", help="Accept a version lower than the current.")
    ] = False,
    commit: CommitOption = False,
    tag: TagOption = False,
    push: PushOption = False,
    changelog: ChangelogOption = False,
    all_: AllOption = False,
    package: PackageOption = None,
    since: SinceOption = None,
    report_dir: ReportDirOption = None,
    otel: OtelOption = None,
) -> None:
    """Set the version of the selected packages (all by default) to VERSION."""
    from poetflow.versioning.plan import plan_set_version

    options = current_options()
    workspace, selected = selected_from_options(
        options.root, all_, package, since, writes="poetflow version set"
    )
    plan = plan_set_version(workspace, selected, new_version, allow_downgrade=allow_downgrade)
    _apply_and_report(
        workspace,
        plan,
        changelog=changelog,
        commit=commit,
        tag=tag,
        push=push,
        options=options,
        report_dir=report_dir,
        otel=otel,
        command="poetflow version set",
    )


def register(app: typer.Typer) -> None:
    version_app.command("bump", epilog=examples(_EXAMPLES))(bump)
    version_app.command("set", epilog=examples(_EXAMPLES))(set_)
    app.add_typer(version_app, name="version")
