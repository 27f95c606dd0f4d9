"""``poetflow doctor``: check what usually breaks a monorepo release, and say how to fix it."""

from __future__ import annotations

from pathlib import Path

import typer

from poetflow.cli.options import current_options, examples, with_global_options
from poetflow.cli.output import print_json, print_table, print_text
from poetflow.errors import EXIT_BAD_INPUT

__all__ = ["register"]

_EXAMPLES = """
Examples:

  poetflow doctor

  poetflow doctor --json

  POETFLOW_TOKEN_FILE=/run/secrets/pypi poetflow doctor --root ./my-monorepo
"""


def _root(explicit: Path | None) -> Path:
    from poetflow.workspace import find_root

    return find_root(Path.cwd(), explicit)


@with_global_options
def doctor() -> None:
    """Check what usually breaks a monorepo release, and say how to fix each problem.

    Checks a shallow git history, an interrupted release, tags that do not follow
    tag-format, lock files out of date with their pyproject.toml (or holding members at
    old versions), versions in package code that a release would not update, path
    dependencies to missing folders, runtime cycles, missing credentials for each
    repository a release publishes to (and says where each one's come from), Poetry
    missing or too old, and uncommitted changes. Exits 1 when anything blocks a release,
    2 when the configuration itself is invalid (every other command refuses it too).
    """
    from poetflow.doctor import run_doctor

    options = current_options()
    report = run_doctor(_root(options.root))
    if options.json:
        print_json(report.to_dict())
    elif report.findings:
        print_table(
            f"poetflow doctor: {len(report.blocking)} blocking, "
            f"{len(report.findings) - len(report.blocking)} warnings in {report.root}",
            ["severity", "check", "problem", "fix"],
            [
                [finding.severity, finding.check, finding.message, finding.fix]
                for finding in report.findings
            ],
        )
    else:
        print_text(f"poetflow doctor: all {len(report.checks)} checks passed in {report.root}.")
    if not options.json:
        for item in report.credentials:
            print_text(f"credentials for {item.repository} ({item.url}): {item.source}")
    if any(f.check == "config" and f.severity == "blocker" for f in report.findings):
        raise typer.Exit(EXIT_BAD_INPUT)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("doctor", epilog=examples(_EXAMPLES))(doctor)
