"""The publish stage: upload what each index does not hold yet, dependencies first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from poetflow.pipeline.runner import PackageFacts, PackageOutcome, RunContext, StageOutcome

if TYPE_CHECKING:
    from poetflow.publish.results import PackageResult, PublishEvent, PublishOptions, PublishRun
    from poetflow.workspace import Package

__all__ = ["PublishStage", "publish_outcomes", "run_publish_options"]

# A package's status over several indexes: the worst one wins.
_RANK = ("failed", "blocked", "published", "would publish", "skipped")


def run_publish_options(ctx: RunContext) -> PublishOptions:
    """``poetflow run``'s publish options: ``--repository`` (repeatable) over
    ``[tool.poetflow.pipeline] repository``, else ``[tool.poetflow.publish]``'s."""
    from poetflow.publish.results import PublishOptions

    repositories = ctx.options.repositories
    configured = ctx.workspace.config.pipeline.repository
    # --repository-url on the command line replaces the configured index, not adds to it.
    if not repositories and configured and ctx.options.repository_url is None:
        repositories = (configured,)
    return PublishOptions(
        repositories=repositories,
        repository_url=ctx.options.repository_url,
        dry_run=ctx.dry_run,
        build=True,
        sign=False,  # the sign stage already wrote bundles and attestations
    )


def _merge(results: list[tuple[str, PackageResult]], several: bool) -> PackageOutcome:
    status = min((result.status for _where, result in results), key=_RANK.index)
    if several:  # what happened on each index, so the report tells them apart
        details = [
            f"{where}: {result.status}" + (f" ({result.detail})" if result.detail else "")
            for where, result in results
        ]
    else:
        details = [result.detail for _where, result in results if result.detail]
    published: dict[str, tuple[str, ...]] = {}
    artifacts: dict[str, Path] = {}
    for _where, result in results:
        for item in result.files:
            artifacts.setdefault(item.filename, Path(item.path))
            if item.status in ("uploaded", "skipped"):
                published[item.filename] = (*published.get(item.filename, ()), item.url)
    return PackageOutcome(
        status,
        "; ".join(details),
        max(result.duration for _where, result in results),
        PackageFacts(artifacts=tuple(artifacts.values()), published_to=published),
    )


def publish_outcomes(run: PublishRun, packages: list[Package]) -> dict[str, PackageOutcome]:
    """Each package's outcome over every target of the run (withheld ones ``skipped``)."""
    several = len(run.reports) > 1
    by_package: dict[str, list[tuple[str, PackageResult]]] = {}
    for report in run.reports:
        for result in report.packages:
            by_package.setdefault(result.name, []).append((report.repository.name, result))
    outcomes: dict[str, PackageOutcome] = {}
    for package in packages:
        if package.name in by_package:
            merged = _merge(by_package[package.name], several)
            signed = tuple(
                name
                for name in merged.facts.published_to
                if any(name in report.signed for report in run.reports)
            )
            outcomes[package.name] = PackageOutcome(
                merged.status,
                merged.detail,
                merged.duration,
                PackageFacts(
                    artifacts=merged.facts.artifacts,
                    published_to=merged.facts.published_to,
                    signed=signed,
                ),
            )
        elif package.name in run.withheld:
            outcomes[package.name] = PackageOutcome("skipped", run.withheld[package.name])
    return outcomes


@dataclass
class PublishStage:
    """``options`` None: the run's (``--repository``; the sign stage already signed)."""

    options: PublishOptions | None = None
    on_event: Callable[[PublishEvent], None] | None = field(default=None, repr=False)
    name: str = "publish"

    def run(self, ctx: RunContext) -> StageOutcome:
        from poetflow.publish.engine import publish_run

        targets = ctx.targets()
        if not targets:
            return StageOutcome(self.name, "skipped", "nothing to publish")
        options = self.options if self.options is not None else run_publish_options(ctx)
        run = publish_run(ctx.workspace, targets, options, self.on_event)
        packages = publish_outcomes(run, list(targets))
        if not run.reports:
            summary = f"nothing to publish: {len(run.withheld)} private or for other indexes"
            return StageOutcome(self.name, "skipped", summary, packages, report=run)
        if not run.ok:
            return StageOutcome(
                self.name,
                "failed",
                f"publish failed for {', '.join(run.failed())}",
                packages,
                report=run,
            )
        where = "" if len(run.reports) == 1 else f" over {len(run.reports)} indexes"
        summary = f"{run.count('uploaded')} uploaded, {run.count('skipped')} already there{where}"
        if run.withheld:
            summary += f", {len(run.withheld)} not published (private or other indexes)"
        return StageOutcome(self.name, "succeeded", summary, packages, report=run)
