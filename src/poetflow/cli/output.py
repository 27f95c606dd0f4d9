"""Writing results: JSON on stdout for machines, rich tables for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from poetflow.masking import mask

if TYPE_CHECKING:
    from poetflow.workspace import Package, Workspace

__all__ = [
    "print_json",
    "print_table",
    "print_text",
    "selected_from_options",
    "workspace_from_options",
]


def print_json(payload: Any) -> None:
    sys.stdout.write(mask(json.dumps(payload, indent=2, default=str)) + "\n")
    sys.stdout.flush()


def print_text(text: str) -> None:
    sys.stdout.write(mask(text))
    if not text.endswith("\n"):
        sys.stdout.write("\n")
    sys.stdout.flush()


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A table for people; rich is imported only here, never on the JSON path."""
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=mask(title) if title else title,
        title_justify="left",
        show_edge=False,
        header_style="bold",
    )
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(mask(cell) for cell in row))
    # Off a terminal (CI logs, pipes) rich would wrap at 80 columns; logs are wider.
    width = None if sys.stdout.isatty() else 160
    Console(soft_wrap=False, width=width).print(table)


def workspace_from_options(root: Path | None, *, writes: str | None = None) -> Any:
    """Find the root and load the workspace (the first step of every command).

    ``writes`` names a command that writes: it holds the repository lock. Either way an
    interrupted release is finished or undone first (cli/guard.py).
    """
    from poetflow.cli.guard import guard_root
    from poetflow.cli.options import current_options
    from poetflow.workspace import find_root, load_workspace

    found = find_root(Path.cwd(), root)
    guard_root(found, writes=writes, dry_run=current_options().dry_run)
    return load_workspace(found)


def selected_from_options(
    root: Path | None,
    all_: bool,
    packages: list[str] | None,
    since: str | None,
    *,
    writes: str | None = None,
) -> tuple[Workspace, tuple[Package, ...]]:
    """The workspace and the packages that --all/--package/--since select."""
    from poetflow.cli.options import make_selection
    from poetflow.selection import select_packages

    workspace = workspace_from_options(root, writes=writes)
    return workspace, select_packages(workspace, make_selection(all_, packages, since))
