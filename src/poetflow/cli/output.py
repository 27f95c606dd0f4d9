"""Writing results: JSON on stdout for machines; for people, tables fitted to the output."""

from __future__ import annotations

import json
import os
import shutil
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from poetflow.masking import mask

if TYPE_CHECKING:
    from poetflow.workspace import Package, Workspace

__all__ = [
    "Cell",
    "print_json",
    "print_table",
    "print_text",
    "render_plain",
    "render_records",
    "selected_from_options",
    "workspace_from_options",
]


# A cell is one string, or several (artifacts, URLs) shown one per line.
Cell = Union[str, Sequence[str]]  # noqa: UP007 - a runtime alias on Python 3.10
# Off a terminal (CI logs, pipes) and without COLUMNS, lines may be this long: CI log
# viewers are wider than the 80 columns rich would assume.
PLAIN_WIDTH = 160
_GAP = "  "


def print_json(payload: Any) -> None:
    sys.stdout.write(mask(json.dumps(payload, indent=2, default=str)) + "\n")
    sys.stdout.flush()


def print_text(text: str) -> None:
    """Text as written: it never goes through rich, so ``[tool.poetflow]`` stays itself."""
    sys.stdout.write(mask(text))
    if not text.endswith("\n"):
        sys.stdout.write("\n")
    sys.stdout.flush()


def print_table(
    title: str | None,
    columns: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    width: int | None = None,
) -> None:
    """The one summary table of a command, fitted to the output.

    On a terminal, a rich table as wide as the terminal; off one (CI logs, pipes), plain
    aligned columns without rich. Either way, when the columns cannot fit without breaking
    a word (a file name, a URL), each row becomes a block of ``label: value`` lines. Cells
    are text, never rich markup: ``[tool.poetflow]`` and ``pkg[s3]`` print as written.
    """
    texts = [[_lines(cell) for cell in row] for row in rows]
    headers = [mask(column) for column in columns]
    shown_title = mask(title) if title else None
    terminal = _is_terminal()
    available = width or _output_width(terminal)
    if not _fits(headers, texts, available, terminal=terminal):
        print_text(render_records(shown_title, headers, texts, available))
    elif terminal:
        _print_rich(shown_title, headers, texts, available)
    else:
        print_text(render_plain(shown_title, headers, texts))


def render_plain(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Cell]]) -> str:
    """Aligned columns for logs; a cell of several lines is joined with commas."""
    flat = [list(columns), *([", ".join(_lines(cell)) for cell in row] for row in rows)]
    widths = [max(len(row[i]) for row in flat) for i in range(len(columns))]
    lines = [title, ""] if title else []
    for row in [flat[0], ["-" * width for width in widths], *flat[1:]]:
        cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        lines.append(_GAP.join(cells).rstrip())
    return "\n".join(lines)


def render_records(
    title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Cell]], width: int
) -> str:
    """One block per row, for output too narrow for the columns: the first cell as its
    heading, then ``label  value`` lines wrapped between words only."""
    label_width = max((len(column) for column in columns[1:]), default=0)
    indent = " " * (2 + label_width + len(_GAP))
    lines = [title, ""] if title else []
    for row in rows:
        lines.append(", ".join(_lines(row[0])) if row else "")
        for column, cell in zip(columns[1:], row[1:], strict=True):
            values = _lines(cell) or ["-"]
            for index, value in enumerate(values):
                label = column.ljust(label_width) if index == 0 else " " * label_width
                wrapped = textwrap.wrap(
                    value,
                    width=max(width - len(indent), 20),
                    break_long_words=False,
                    break_on_hyphens=False,
                ) or [""]
                lines.append(f"  {label}{_GAP}{wrapped[0]}")
                lines += [indent + more for more in wrapped[1:]]
        lines.append("")
    return "\n".join(lines).rstrip("\n")


def _is_terminal() -> bool:
    return sys.stdout.isatty()


def _lines(cell: Cell) -> list[str]:
    if isinstance(cell, str):
        return [mask(cell)]
    return [mask(item) for item in cell]


def _output_width(terminal: bool) -> int:
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return shutil.get_terminal_size().columns if terminal else PLAIN_WIDTH


def _fits(
    columns: Sequence[str], rows: Sequence[Sequence[list[str]]], width: int, *, terminal: bool
) -> bool:
    """Whether every column can be as wide as its longest word (rich wraps between words;
    narrower, it would cut a file name or a URL in the middle)."""
    if terminal:
        need = [
            max([len(column), *(len(word) for row in rows for word in _words(row[i]))])
            for i, column in enumerate(columns)
        ]
    else:
        need = [
            max([len(column), *(len(", ".join(row[i])) for row in rows)])
            for i, column in enumerate(columns)
        ]
    if terminal:
        # rich pads every cell by one on either side and draws a rule between columns.
        return sum(need) + 2 * len(columns) + len(columns) - 1 <= width
    return sum(need) + len(_GAP) * (len(columns) - 1) <= width


def _words(lines: list[str]) -> list[str]:
    return [word for line in lines for word in line.split()]


def _print_rich(
    title: str | None, columns: Sequence[str], rows: Sequence[Sequence[list[str]]], width: int
) -> None:
    # rich is imported only here: never on the JSON path, nor for logs.
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(
        # Text, not str: rich would read "[tool.poetflow]" in a message as a markup tag.
        title=Text(title) if title else None,
        title_justify="left",
        show_edge=False,
        header_style="bold",
    )
    for index, column in enumerate(columns):
        # At least its longest word: rich shares out the width in proportion otherwise,
        # and folds a file name that would have fitted ("...-py3-none-any." / "whl").
        words = [len(word) for row in rows for word in _words(row[index])]
        longest = max([len(column), *words])
        # And a column of single words (file names, URLs, hosts) is never squeezed: rich
        # narrows the widest columns first, whatever their minimum.
        widest = max([len(column), *(len(line) for row in rows for line in row[index])])
        table.add_column(
            Text(column), overflow="fold", min_width=longest, no_wrap=widest == longest
        )
    for row in rows:
        table.add_row(*(Text("\n".join(cell)) for cell in row))
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
