"""The build stage: sdist + wheel of every target package (poetflow.build)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from poetflow.pipeline.runner import PackageFacts, PackageOutcome, RunContext, StageOutcome

if TYPE_CHECKING:
    from poetflow.build.results import BuildEvent, BuildOptions

__all__ = ["BuildStage"]


@dataclass
class BuildStage:
    """``options`` None: the run's (``--jobs``, dry run)."""

    options: BuildOptions | None = None
    on_event: Callable[[BuildEvent], None] | None = field(default=None, repr=False)
    name: str = "build"

    def run(self, ctx: RunContext) -> StageOutcome:
        from poetflow.build.engine import build_packages
        from poetflow.build.results import BuildOptions

        targets = ctx.targets()
        if not targets:
            return StageOutcome(self.name, "skipped", "nothing to build")
        options = self.options or BuildOptions(
            jobs=ctx.options.jobs, dry_run=ctx.dry_run, cache=ctx.options.cache
        )
        report = build_packages(ctx.workspace, targets, options, self.on_event)
        packages = {
            p.name: PackageOutcome(
                p.status,
                p.error or p.reason,
                p.duration,
                PackageFacts(artifacts=tuple(a.path for a in p.artifacts)),
            )
            for p in report.packages
        }
        ctx.state.artifacts = {p.name: [a.path for a in p.artifacts] for p in report.packages}
        if not report.ok:
            bad = [p.name for p in report.packages if not p.ok]
            return StageOutcome(
                self.name, "failed", f"build failed for {', '.join(bad)}", packages, report=report
            )
        counts: dict[str, int] = {}
        for entry in packages.values():
            counts[entry.status] = counts.get(entry.status, 0) + 1
        summary = ", ".join(f"{number} {status}" for status, number in counts.items())
        return StageOutcome(self.name, "succeeded", summary, packages, report=report)
