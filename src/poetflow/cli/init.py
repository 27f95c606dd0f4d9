"""``poetflow init``: propose and write ``[tool.poetflow]`` (and CI files) for a repository."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional, cast

import typer

from poetflow.cli.options import current_options, examples, with_global_options
from poetflow.cli.output import print_json, print_text

if TYPE_CHECKING:
    from poetflow.config import Versioning
    from poetflow.init import InitSettings, Inspection, PlannedFile

__all__ = ["register"]


def _examples() -> str:
    from poetflow.ci.registry import template_systems

    lines = ["Examples:", "", "  poetflow init", ""]
    lines += [f"  poetflow init --yes --ci {name} --dry-run" for name in template_systems()]
    lines += ["", "  poetflow init --yes --ci github --release-pr --dry-run"]
    return "\n".join(lines)


def _ci_help() -> str:
    from poetflow.ci.registry import template_systems

    names = ", ".join(template_systems())
    return f"Also write this CI system's pipeline from PoetFlow's templates: {names}."


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
        help=_ci_help(),
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
            {"poetry": "[tool.poetry]", "pep621": "[project]"}[style] for style in inspection.styles
        )
        lines.append(
            f"  {len(inspection.packages)} Poetry packages ({styles} metadata) in "
            f"{', '.join(inspection.package_globs)}"
        )
    else:
        lines.append("  no Poetry packages found")
    for project in inspection.skipped:
        lines.append(f"  not a member: {project.relpath} ({project.name!r}, {project.reason})")
    if inspection.tag_format:
        guess = inspection.tag_format
        lines.append(f"  {guess.matched} of {guess.total} git tags follow {guess.tag_format}")
    else:
        lines.append(f"  {inspection.tag_count} git tags, none naming a package version")
    if inspection.versioning:
        lines.append(f"  versioning: {inspection.versioning} ({inspection.versioning_reason})")
    adopted = inspection.release_tool
    if adopted.tools:
        files = sum(len(entries) for entries in adopted.version_files.values())
        lines.append(
            f"  release settings of {', '.join(adopted.tools)}: tag format "
            f"{adopted.tag_format or '-'}, {files} version files carried over"
        )
        lines.extend(f"  note: {note}" for note in adopted.notes)
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


def _keep(planned: PlannedFile, *, force: bool, interactive: bool, dry_run: bool) -> bool:
    """Keep an existing file unless --force or the person at the terminal says replace."""
    if not planned.exists:
        return False
    if planned.unchanged:
        return True  # nothing to write
    if not planned.replaces_config and planned.path.name == "pyproject.toml":
        return False  # adding [tool.poetflow] to a pyproject.toml replaces nothing
    if force:
        return False
    if dry_run or not interactive:
        return True
    what = "its [tool.poetflow] table" if planned.replaces_config else "it"
    return not typer.confirm(f"{planned.path} exists. Replace {what}?", default=False)


ReleasePrOption = Annotated[
    bool,
    typer.Option(
        "--release-pr",
        help="With --ci github or gitlab: release through a reviewed release pull request "
        "(`poetflow release-pr`, then `run` on its merge) instead of on every push.",
    ),
]


@with_global_options
def init(
    yes: YesOption = False,
    force: ForceOption = False,
    ci: CiOption = None,
    release_pr: ReleasePrOption = False,
) -> None:
    """Inspect the repository and write a [tool.poetflow] configuration (and CI files).

    Asks only what the repository does not tell; never replaces an existing file without
    asking (or --force).
    """
    from poetflow.init import (
        existing_settings,
        inspect_repository,
        plan_ci_files,
        plan_config_file,
        plan_version_files,
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
    decide = {"force": force, "interactive": interactive, "dry_run": options.dry_run}
    config_file = plan_config_file(inspection, settings)
    kept: list[PlannedFile] = []
    written: list[PlannedFile] = []
    if _keep(config_file, **decide):
        kept.append(config_file)
        settings = existing_settings(inspection) or settings  # the CI follows what is there
    else:
        written.append(config_file)
    written.extend(plan_version_files(inspection))
    if release_pr and ci is None:
        from poetflow.errors import UsageError

        raise UsageError(
            "--release-pr chooses the CI pipeline's release flow, so it needs --ci.",
            hint="Pass --ci github or --ci gitlab with it.",
        )
    if ci is not None:
        for planned in plan_ci_files(inspection, ci.lower(), settings, release_pr=release_pr):
            (kept if _keep(planned, **decide) else written).append(planned)
    if not options.dry_run:
        write_files(written, force=True)
    _report(inspection, settings, written, kept, options.json, options.dry_run)


def _report(
    inspection: Inspection,
    settings: InitSettings,
    written: list[PlannedFile],
    kept: list[PlannedFile],
    as_json: bool,
    dry_run: bool,
) -> None:
    from poetflow.init import config_table

    if as_json:
        print_json(
            {
                "root": str(inspection.root),
                "dry_run": dry_run,
                "config": config_table(settings),
                "adopted": inspection.release_tool.to_dict(),
                "written": [str(planned.path) for planned in written],
                "kept": [str(planned.path) for planned in kept],
            }
        )
        return
    verb = "Would write" if dry_run else "Wrote"
    lines = [
        f"{verb} {planned.path.relative_to(inspection.root)} ({planned.description})"
        for planned in written
    ]
    lines += [
        f"Kept {planned.path.relative_to(inspection.root)} as it is"
        + ("" if planned.unchanged else " (it exists; --force replaces it)")
        for planned in kept
    ]
    exclude = f", exclude = {list(settings.exclude)}" if settings.exclude else ""
    lines.append(
        f"  packages = {list(settings.packages)}{exclude}, versioning = {settings.versioning}, "
        f"tag-format = {settings.tag_format}"
    )
    if not dry_run:
        lines.append("Next: run `poetflow doctor` to check the repository before a release.")
    print_text("\n".join(lines))


def register(app: typer.Typer) -> None:
    app.command("init", epilog=examples(_examples()))(init)
