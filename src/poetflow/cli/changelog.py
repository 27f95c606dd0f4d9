"""``poetflow changelog``: CHANGELOG.md / CHANGELOG.json per package and one at the root."""

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
) -> None:
    """Write changelogs from conventional commits; hand-written text around them stays."""
    from poetflow.changelog import write_changelogs

    options = current_options()
    formats = [item.lower() for item in format_ or []]
    for item in formats:
        if item not in ("markdown", "json"):
            raise UsageError(f"Unknown changelog format {item!r}.", hint="Use markdown or json.")
    workspace, selected = selected_from_options(options.root, all_, package, since)
    result = write_changelogs(
        workspace,
        selected,
        formats=formats or None,  # type: ignore[arg-type]
        dry_run=options.dry_run,
    )
    if options.json:
        print_json(result.to_json())
        return
    if not result.files:
        print_text("changelogs are up to date")
        return
    verb = "would write" if result.dry_run else "wrote"
    for path in result.files:
        print_text(f"{verb} {path.relative_to(workspace.root)}")


def register(app: typer.Typer) -> None:
    app.command("changelog", epilog=examples(_EXAMPLES))(changelog)
