"""``poetflow discover``: list the packages of the monorepo."""

from __future__ import annotations

from typing import Any

import typer

from poetflow.cli.options import (
    AllOption,
    PackageOption,
    SinceOption,
    current_options,
    make_selection,
    with_global_options,
)
from poetflow.cli.output import print_json, print_table, workspace_from_options

__all__ = ["register"]

_EXAMPLES = """
Examples:

  poetflow discover

  poetflow discover --json

  poetflow discover --package api --root ./my-monorepo
"""


@with_global_options
def discover(
    all_: AllOption = False,
    package: PackageOption = None,
    since: SinceOption = None,
) -> None:
    """List the packages: name, version, path, internal dependencies and metadata style."""
    from poetflow.discovery_report import describe_packages
    from poetflow.selection import select_packages

    options = current_options()
    workspace = workspace_from_options(options.root)
    selected = select_packages(workspace, make_selection(all_, package, since))
    entries = describe_packages(workspace, selected)
    if options.json:
        print_json({"root": str(workspace.root), "packages": entries})
        return
    rows = [
        [
            entry["name"],
            _version_cell(entry),
            entry["path"],
            ", ".join(entry["dependencies"]) or "-",
            ", ".join(entry["dev_dependencies"]) or "-",
            entry["style"],
        ]
        for entry in entries
    ]
    print_table(
        f"{len(entries)} packages in {workspace.root}",
        ["package", "version", "path", "depends on", "dev depends on", "style"],
        rows,
    )


def _version_cell(entry: dict[str, Any]) -> str:
    version = entry["version"] or "-"
    return f"{version} (dynamic)" if entry["dynamic_version"] else version


def register(app: typer.Typer) -> None:
    app.command("discover", epilog=_EXAMPLES)(discover)
