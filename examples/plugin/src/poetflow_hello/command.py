"""`poetflow hello`: greet every package of the monorepo, in dependency order."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(add_completion=False)
# The plugin API major this plugin was written for (a literal, not PoetFlow's constant).
app.api_version = "1.0"  # type: ignore[attr-defined]


@app.command()
def hello(
    root: Path = typer.Option(None, "--root", help="Monorepo root (default: found upwards)."),
    shout: bool = typer.Option(False, "--shout", help="Greet loudly."),
) -> None:
    """Greet every package of the monorepo, dependencies first."""
    from poetflow.workspace import find_root, load_workspace

    workspace = load_workspace(find_root(Path.cwd(), root))
    names = [name for level in workspace.graph.levels() for name in level]
    for name in names:
        package = workspace.by_name[name]
        line = f"Hello, {package.display_name} {package.version or '(dynamic)'}!"
        typer.echo(line.upper() if shout else line)
    typer.echo(f"{len(names)} packages greeted.")
