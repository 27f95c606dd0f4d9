"""The publish stage: upload what the index does not hold yet, dependencies first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from poetflow.pipeline.runner import PackageFacts, PackageOutcome, RunContext, StageOutcome

if TYPE_CHECKING:
    from poetflow.publish.results import PublishEvent, PublishOptions

__all__ = ["PublishStage"]


@dataclass
class PublishStage:
    """``options`` None: the run's (``--repository``; the sign stage already signed)."""

    options: PublishOptions | None = None
    on_event: Callable[[PublishEvent], None] | None = field(default=None, repr=False)
    name: str = "publish"

    def _options(self, ctx: RunContext) -> PublishOptions:
        from poetflow.publish.results import PublishOptions

        if self.options is not None:
            return self.options
        return PublishOptions(
            repository=ctx.options.repository or ctx.workspace.config.pipeline.repository,
            repository_url=ctx.options.repository_url,
            dry_run=ctx.dry_run,
            build=True,
            sign=False,  # the sign stage already wrote bundles and attestations
        )

    def run(self, ctx: RunContext) -> StageOutcome:
        from poetflow.publish.engine import publish_packages

        targets = ctx.targets()
        if not targets:
            return StageOutcome(self.name, "skipped", "nothing to publish")
        report = publish_packages(ctx.workspace, targets, self._options(ctx), self.on_event)
        packages = {
            p.name: PackageOutcome(
                p.status,
                p.detail,
                p.duration,
                PackageFacts(
                    artifacts=tuple(Path(f.path) for f in p.files),
                    published_to={
                        f.filename: (f.url,) for f in p.files if f.status in ("uploaded", "skipped")
                    },
                    signed=tuple(f.filename for f in p.files if f.filename in report.signed),
                ),
            )
            for p in report.packages
        }
        if not report.ok:
            bad = [p.name for p in report.packages if p.status in ("failed", "blocked")]
            return StageOutcome(
                self.name, "failed", f"publish failed for {', '.join(bad)}", packages, report=report
            )
        uploaded, skipped = report.count("uploaded"), report.count("skipped")
        summary = f"{uploaded} uploaded, {skipped} already there"
        return StageOutcome(self.name, "succeeded", summary, packages, report=report)
