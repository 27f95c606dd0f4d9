"""``poetflow init``: propose and write ``[tool.poetflow]`` (and CI files) for a repository."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional, cast

import typer

from poetflow.cli.options import current_options, with_global_options
from poetflow.cli.output import print_json, print_text

if TYPE_CHECKING:
    from poetflow.config import Versioning
    from poetflow.init import Inspection, PlannedFile

__all__ = ["register"]

_EXAMPLES = """
Examples:

  poetflow init

  poetflow init --yes --ci github

  poetflow init --yes --force --ci gitlab --dry-run
"""

YesOption = Annotated[
    bool,
    typer.Option(
        "--yes",
        "-y",
        help="Ask nothing: take what was inferred and the defaults for the rest.",
    ),
]
ForceOption = Annotated[
    bool,
    typer.Option(
        "--force",
        help="Replace an existing [tool.poetflow] table or CI file without asking.",
    ),
]
CiOption = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional on Python 3.10
    typer.Option(
        "--ci",
        help="Also write this CI's pipeline from PoetFlow's templates: github, gitlab or "
        "jenkins.",
        show_default=False,
    ),
]


def _root(explicit: Path | None) -> Path:
    # init runs before any [tool.poetflow] exists: --root, else the git top level, else here.
    from poetflow.errors import WorkspaceNotFoundError
    from poetflow.workspace import find_root

    if explicit is not None:
        return find_root(Path.cwd(), explicit)
    try:
        return find_root(Path.cwd())
    except WorkspaceNotFoundError:
        return Path.cwd().resolve()


def _describe(inspection: Inspection) -> str:
    lines = [f"Inspected {inspection.root}:"]
    if inspection.packages:
        styles = " and ".join(
            {"poetry": "[tool.poetry]", "pep621": "[project]"}[style]
            for style in inspection.styles
        )
        lines.append(
            f"  {len(inspection.packages)} Poetry packages ({styles} metadata) in "
            f"{', '.join(inspection.package_globs)}"
        )
    else:
        lines.append("  no Poetry packages found")
    if inspection.tag_format:
        guess = inspection.tag_format
        lines.append(
            f"  {guess.matched} of {guess.total} git tags follow {guess.tag_format}"
        )
    else:
        lines.append(f"  {inspection.tag_count} git tags, none naming a package version")
    if inspection.versioning:
        lines.append(f"  versioning: {inspection.versioning} ({inspection.versioning_reason})")
    return "\n".join(lines)


def _ask(inspection: Inspection, yes: bool) -> tuple[list[str] | None, Versioning | None]:
    """Ask only what the repository did not tell."""
    packages: list[str] | None = None
    versioning: Versioning | None = None
    if yes:
        return packages, versioning
    if not inspection.packages:
        answer = typer.prompt("Where are your packages (globs, comma separated)?", "packages/*")
        packages = [item.strip() for item in answer.split(",") if item.strip()]
    if inspection.versioning is None:
        while True:
            answer = typer.prompt(
                "Version the packages independently or synchronized (one version)?",
                "independent",
            ).strip()
            if answer in ("independent", "synchronized"):
                versioning = cast("Versioning", answer)
                break
            typer.echo("Please answer independent or synchronized.", err=True)
    return packages, versioning


def _confirm_overwrites(files: list[PlannedFile], force: bool, yes: bool) -> list[Path]:
    allowed: list[Path] = []
    for planned in files:
        replaces = planned.replaces_config or (
            planned.exists and planned.path.name != "pyproject.toml"
        )
        if not replaces or force or yes:
            continue
        what = "its [tool.poetflow] table" if planned.replaces_config else "it"
        if typer.confirm(f"{planned.path} exists. Replace {what}?", default=False):
            allowed.append(planned.path)
    return allowed


@with_global_options
def init(yes: YesOption = False, force: ForceOption = False, ci: CiOption = None) -> None:
    """Inspect the repository and write a [tool.poetflow] configuration (and CI files)."""
    from poetflow.init import (
        inspect_repository,
        plan_ci_files,
        plan_config_file,
        settings_from,
        write_files,
    )

    options = current_options()
    interactive = not yes and sys.stdin.isatty()
    inspection = inspect_repository(_root(options.root))
    if not options.json:
        print_text(_describe(inspection))
    packages, versioning = _ask(inspection, not interactive)
    settings = settings_from(inspection, packages=packages, versioning=versioning)
    files = [plan_config_file(inspection, settings)]
    if ci is not None:
        files.extend(plan_ci_files(inspection, ci.lower()))
    allowed = [] if options.dry_run else _confirm_overwrites(files, force, not interactive)
    if not options.dry_run:
        write_files(files, force=force, allowed=allowed)
    if options.json:
        print_json(
            {
                "root": str(inspection.root),
                "dry_run": options.dry_run,
                "config": {
                    "packages": list(settings.packages),
                    "versioning": settings.versioning,
                    "tag-format": settings.tag_format,
                    "internal-constraint": settings.internal_constraint,
                },
                "files": [str(planned.path) for planned in files],
            }
        )
        return
    verb = "Would write" if options.dry_run else "Wrote"
    lines = [
        f"{verb} {planned.path.relative_to(inspection.root)} ({planned.description})"
        for planned in files
    ]
    lines.append(
        f"  packages = {list(settings.packages)}, versioning = {settings.versioning}, "
        f"tag-format = {settings.tag_format}"
    )
    if not options.dry_run:
        lines.append("Next: run `poetflow doctor` to check the repository before a release.")
    print_text("\n".join(lines))


def register(app: typer.Typer) -> None:
    app.command("init", epilog=_EXAMPLES)(init)
