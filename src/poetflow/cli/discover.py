"""``poetflow discover``: list the packages of the monorepo."""

from __future__ import annotations

from typing import Annotated, Any

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
    print_table,
    selected_from_options,
)

__all__ = ["register"]

_EXAMPLES = """
Examples:

  poetflow discover

  poetflow discover --json

  poetflow discover --package api --root ./my-monorepo

  poetflow discover --status     # last release tag, commits since, pending bump (reads git)
"""

StatusOption = Annotated[
    bool,
    typer.Option(
        "--status",
        help="Add each package's release status from git: last release tag, commits "
        "since it, pending bump, and the indexes a release publishes it to.",
    ),
]


@with_global_options
def discover(
    all_: AllOption = False,
    package: PackageOption = None,
    since: SinceOption = None,
    status: StatusOption = False,
) -> None:
    """List the packages: name, version, path, internal dependencies and metadata style."""
    from poetflow.discovery_report import describe_packages

    options = current_options()
    workspace, selected = selected_from_options(options.root, all_, package, since)
    entries = describe_packages(workspace, selected)
    if status:
        from poetflow.discovery_report import release_status

        statuses = release_status(workspace, selected)
        for entry in entries:
            entry["status"] = statuses.get(entry["name"])
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
            *([_status_cell(entry["status"]), _targets_cell(entry["status"])] if status else []),
        ]
        for entry in entries
    ]
    print_table(
        f"{len(entries)} packages in {workspace.root}",
        [
            "package",
            "version",
            "path",
            "depends on",
            "dev depends on",
            "style",
            *(["status", "publishes to"] if status else []),
        ],
        rows,
    )


def _status_cell(status: dict[str, Any] | None) -> str:
    if not status:
        return "-"
    tag = status["last_tag"] or "never released"
    pending = status["next_version"]
    bump = f", next {pending} ({status['pending_bump']})" if pending else ", nothing to release"
    return f"{tag}, {status['commits_since']} commits since{bump}"


def _targets_cell(status: dict[str, Any] | None) -> str:
    if not status:
        return "-"
    if status["private"]:
        return f"nowhere: {status['private']}"
    if not status["targets"] and status["limited_to"]:
        return f"none by default ({', '.join(status['limited_to'])} only)"
    return ", ".join(status["targets"]) or "-"


def _version_cell(entry: dict[str, Any]) -> str:
    version = entry["version"] or "-"
    return f"{version} (dynamic)" if entry["dynamic_version"] else version


def register(app: typer.Typer) -> None:
    app.command("discover", epilog=examples(_EXAMPLES))(discover)
