"""``poetflow graph``: the dependency graph, its order and its cycles."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from poetflow.cli.options import (
    AllOption,
    PackageOption,
    SinceOption,
    current_options,
    examples,
    with_global_options,
)
from poetflow.cli.output import print_text, selected_from_options

__all__ = ["register"]

_EXAMPLES = """
Examples:

  poetflow graph

  poetflow graph --format mermaid > docs/graph.mmd

  poetflow graph --format dot | dot -Tsvg > graph.svg
"""

FormatOption = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option(
        "--format",
        "-f",
        help="text (default), json, mermaid or dot. --json is the same as --format json.",
        show_default=False,
    ),
]


@with_global_options
def graph(
    fmt: FormatOption = None,
    all_: AllOption = False,
    package: PackageOption = None,
    since: SinceOption = None,
) -> None:
    """Show the dependency graph: topological order, runtime and dev edges, cycles."""
    from poetflow.graph import DependencyGraph
    from poetflow.graph_formats import render_graph

    options = current_options()
    chosen = (fmt or ("json" if options.json else "text")).lower()
    if chosen not in ("text", "json", "mermaid", "dot"):
        raise typer.BadParameter(
            f"{fmt!r} is not one of text, json, mermaid, dot.", param_hint="--format"
        )
    workspace, selected = selected_from_options(options.root, all_, package, since)
    names = {package.name for package in selected}
    full = workspace.graph
    sub = DependencyGraph(
        nodes=tuple(node for node in full.nodes if node in names),
        edges=tuple(e for e in full.edges if e.source in names and e.target in names),
    )
    print_text(render_graph(sub, chosen))  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    app.command("graph", epilog=examples(_EXAMPLES))(graph)
