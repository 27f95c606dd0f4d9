"""``poetflow plan``: what ``run`` would do, and CI matrices of the affected packages."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from poetflow.cli.options import (
    ChangedOrAllOption,
    PackageOption,
    SinceOption,
    current_options,
    examples,
    make_selection,
    with_global_options,
)
from poetflow.cli.output import Cell, print_json, print_table, print_text, workspace_from_options

__all__ = ["register"]

# text and json are the plan itself; every other format is a CI system's fan-out.
_OWN_FORMATS = {"text": "a table", "json": "the plan as JSON"}


def _format_help() -> str:
    from poetflow.ci.registry import plan_formats

    formats = {**_OWN_FORMATS, **{name: fmt.help for name, fmt in plan_formats().items()}}
    return "; ".join(f"{name}: {text}" for name, text in formats.items()) + "."


def _examples() -> str:
    from poetflow.ci.registry import plan_formats

    lines = ["Examples:", "", "  poetflow plan", "", "  poetflow plan --json"]
    for name in plan_formats():
        lines += ["", f"  poetflow plan --since origin/main --format {name}"]
    return "\n".join(lines)


@with_global_options
def plan(
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            help=_format_help(),
        ),
    ] = "text",
    all_: ChangedOrAllOption = False,
    package: PackageOption = None,
    since: SinceOption = None,
) -> None:
    """Show what `poetflow run` would do per package and why; plan a CI fan-out."""
    from poetflow.ci.registry import plan_formats
    from poetflow.pipeline.planning import make_plan

    options = current_options()
    chosen = "json" if options.json and fmt == "text" else fmt
    ci_formats = plan_formats()
    if chosen not in _OWN_FORMATS and chosen not in ci_formats:
        names = [*_OWN_FORMATS, *ci_formats]
        raise typer.BadParameter(
            f"{fmt!r} is not one of {', '.join(names)}.", param_hint="--format"
        )
    workspace = workspace_from_options(options.root)
    result = make_plan(workspace, make_selection(all_, package, since))
    if chosen == "json":
        print_json(result)
    elif chosen in ci_formats:
        print_text(ci_formats[chosen].render(result))
    elif not result["packages"]:
        print_text("poetflow plan: nothing to release (no commits since the last releases).")
    else:
        rows: list[list[Cell]] = [
            [
                p["package"],
                str(p["current"]),
                str(p["next"]) if p["bump"] else "-",
                p["bump"] or "-",
                _why(p, result["packages"]) or "-",
                ", ".join(p["stages"]),
                _targets_cell(p),
            ]
            for p in result["packages"]
        ]
        releasing = sum(1 for p in result["packages"] if p["bump"])
        print_table(
            f"poetflow plan: {_count(releasing, 'release')}, "
            f"{_count(len(rows) - releasing, 'package')} tested only",
            ["package", "current", "next", "bump", "why", "stages", "publishes to"],
            rows,
        )


def _why(package: dict[str, Any], packages: list[dict[str, Any]]) -> list[str]:
    """The reasons, with the dependency releases it follows said once, by new version:
    "new dependencies: acme-http 0.4.2, acme-storage 2.1.0"."""
    releasing = {p["package"]: p["next"] for p in packages if p["bump"]}
    # The engine says "dependency NAME OLD -> NEW" per dependency; one line reads better.
    own = [reason for reason in package["reasons"] if not reason.startswith("dependency ")]
    followed = [
        f"{name} {releasing[name]}" for name in package["dependencies"] if name in releasing
    ]
    if not followed or len(own) == len(package["reasons"]):
        return list(package["reasons"])
    noun = "dependency" if len(followed) == 1 else "dependencies"
    return [*own, f"new {noun}: {', '.join(followed)}"]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _targets_cell(entry: dict[str, Any]) -> str:
    if entry["private"]:
        return f"nowhere: {entry['private']}"
    return ", ".join(entry["targets"]) or "-"


def register(app: typer.Typer) -> None:
    app.command("plan", epilog=examples(_examples()))(plan)
