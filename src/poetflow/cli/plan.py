"""``poetflow plan``: what ``run`` would do, and CI matrices of the affected packages."""

from __future__ import annotations

from typing import Annotated

import typer

from poetflow.cli.options import (
    AllOption,
    PackageOption,
    SinceOption,
    current_options,
    examples,
    make_selection,
    with_global_options,
)
from poetflow.cli.output import print_json, print_table, print_text, workspace_from_options

__all__ = ["register"]

_EXAMPLES = """
Examples:

  poetflow plan

  poetflow plan --format github-matrix

  poetflow plan --since origin/main --format gitlab-pipeline > child.yml
"""


@with_global_options
def plan(
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help='text, json, github-matrix ({"include": [{"package", "path"}]}) or '
            "gitlab-pipeline (a child pipeline YAML).",
        ),
    ] = "text",
    all_: AllOption = False,
    package: PackageOption = None,
    since: SinceOption = None,
) -> None:
    """Show what `poetflow run` would do per package and why; plan a CI fan-out."""
    from poetflow.pipeline.planning import PLAN_FORMATS, github_matrix, gitlab_pipeline, make_plan

    options = current_options()
    chosen = "json" if options.json and fmt == "text" else fmt
    if chosen not in PLAN_FORMATS:
        raise typer.BadParameter(
            f"{fmt!r} is not one of {', '.join(PLAN_FORMATS)}.", param_hint="--format"
        )
    workspace = workspace_from_options(options.root)
    result = make_plan(workspace, make_selection(all_, package, since))
    if chosen == "json":
        print_json(result)
    elif chosen == "github-matrix":
        print_text(github_matrix(result))
    elif chosen == "gitlab-pipeline":
        print_text(gitlab_pipeline(result))
    else:
        rows = [
            [
                p["package"],
                str(p["current"]),
                str(p["next"]),
                p["bump"] or "-",
                "; ".join(p["reasons"]) or "-",
                ", ".join(p["stages"]),
            ]
            for p in result["packages"]
        ]
        print_table("poetflow plan", ["package", "current", "next", "bump", "why", "stages"], rows)


def register(app: typer.Typer) -> None:
    app.command("plan", epilog=examples(_EXAMPLES))(plan)
