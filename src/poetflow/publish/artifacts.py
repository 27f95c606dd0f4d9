"""Which files to publish: built (or found up to date) by ``poetflow build``, else ``dist/``."""

from __future__ import annotations

from collections.abc import Sequence

from poetflow.distributions import Distribution, find_distributions
from poetflow.errors import PublishError, StepFailedError
from poetflow.workspace import Package, Workspace

__all__ = ["build_distributions", "collect_distributions"]


def collect_distributions(
    packages: Sequence[Package], *, allow_missing: bool = False
) -> dict[str, list[Distribution]]:
    """Each package's sdist and wheels for its current version in ``dist/``.

    A package with nothing built is an error (exit 2) unless ``allow_missing``.
    """
    found: dict[str, list[Distribution]] = {}
    missing: list[str] = []
    for package in packages:
        if package.version is None:
            raise PublishError(
                f"{package.pyproject}: {package.name} has no static version to publish.",
                hint="Set the version in pyproject.toml (poetflow version set V).",
            )
        distributions = find_distributions(package.path / "dist", package.name, package.version)
        if not distributions:
            missing.append(f"{package.name} {package.version} ({package.relpath}/dist)")
        found[package.name] = distributions
    if missing and not allow_missing:
        raise PublishError(
            f"No built sdist or wheel for {', '.join(missing)}.",
            hint="Run `poetflow build` first.",
        )
    return found


def build_distributions(
    workspace: Workspace, packages: Sequence[Package], *, dry_run: bool = False
) -> dict[str, list[Distribution]]:
    """Build what is missing or stale, then publish exactly the files the build reports.

    A failed build stops the run before any upload (exit 1): nothing irreversible happens
    after a local failure. In a dry run nothing is built: up-to-date packages give their
    files, stale ones none.
    """
    from poetflow.build.engine import build_packages
    from poetflow.build.results import BuildOptions

    # Builds use every core (their own --jobs default), whatever number of uploads run at once.
    report = build_packages(workspace, packages, BuildOptions(dry_run=dry_run))
    if not report.ok:
        failed = ", ".join(
            f"{item.name} ({item.error or item.status})"
            for item in report.packages
            if item.status in ("failed", "blocked")
        )
        raise StepFailedError(
            f"Building before publishing failed for {failed}; nothing was uploaded.",
            hint="Fix the build (see `poetflow build`) and rerun publish.",
        )
    found: dict[str, list[Distribution]] = {}
    for item in report.packages:
        found[item.name] = sorted(
            (
                Distribution(
                    path=artifact.path,
                    kind=artifact.kind,
                    project=item.name,
                    version=item.version,
                    sha256=artifact.sha256,
                    size=artifact.size,
                )
                for artifact in item.artifacts
            ),
            key=lambda d: (d.kind != "sdist", d.filename),
        )
    return found
