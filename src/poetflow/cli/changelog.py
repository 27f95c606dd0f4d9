"""``poetflow changelog``: CHANGELOG.md / CHANGELOG.json per package and one at the root."""

from __future__ import annotations

from typing import Annotated, Optional

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
    print_text,
    selected_from_options,
)
from poetflow.errors import UsageError

__all__ = ["register"]

_EXAMPLES = """
Examples:

  poetflow changelog

  poetflow changelog -p acme-core --format json

  poetflow changelog --json --dry-run     # the JSON changelog on stdout, nothing written
"""

FormatOption = Annotated[
    Optional[list[str]],  # noqa: UP045 - typer needs Optional on Python 3.10
    typer.Option(
        "--format",
        help="markdown (CHANGELOG.md) or json (CHANGELOG.json); repeatable. "
        "Default: [tool.poetflow.changelog] formats.",
        show_default=False,
    ),
]


@with_global_options
def changelog(
    format_: FormatOption = None,
    all_: AllOption = False,
    package: PackageOption = None,
    since: SinceOption = None,
    report_dir: ReportDirOption = None,
    otel: OtelOption = None,
) -> None:
    """Write changelogs from conventional commits; hand-written text around them stays."""
    from poetflow.changelog.engine import ChangelogResult, write_changelogs
    from poetflow.cli.reporting import run_one_stage
    from poetflow.pipeline.runner import (
        CallStage,
        PackageOutcome,
        RunContext,
        RunOptions,
        StageOutcome,
    )

    options = current_options()
    formats = [item.lower() for item in format_ or []]
    for item in formats:
        if item not in ("markdown", "json"):
            raise UsageError(f"Unknown changelog format {item!r}.", hint="Use markdown or json.")
    workspace, selected = selected_from_options(
        options.root, all_, package, since, writes="poetflow changelog"
    )

    def write(ctx: RunContext) -> StageOutcome:
        written = write_changelogs(
            ctx.workspace,
            ctx.selected,
            formats=formats or None,  # type: ignore[arg-type]
            dry_run=ctx.dry_run,
        )
        files = {path.resolve() for path in written.files}
        packages = {
            p.name: PackageOutcome(
                "written" if any(f.is_relative_to(p.path.resolve()) for f in files) else "current"
            )
            for p in ctx.selected
        }
        summary = f"{len(written.files)} files" if written.files else "up to date"
        return StageOutcome("changelog", "succeeded", summary, packages, report=written)

    run_options = RunOptions(
        dry_run=options.dry_run, report_dir=report_dir, telemetry_endpoint=otel
    )
    result = run_one_stage(
        "changelog",
        CallStage("changelog", write),
        workspace,
        selected,
        run_options,
        ChangelogResult,
        exit_code=lambda _result: 0,
    )
    if result is None:
        return
    if options.json:
        print_json(result.to_dict())
        return
    if not result.files:
        print_text("changelogs are up to date")
        return
    verb = "would write" if result.dry_run else "wrote"
    for path in result.files:
        print_text(f"{verb} {path.relative_to(workspace.root)}")


def register(app: typer.Typer) -> None:
    app.command("changelog", epilog=examples(_EXAMPLES))(changelog)
