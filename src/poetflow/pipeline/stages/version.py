"""The version stage: next versions from conventional commits, dependents' constraints,
changelogs; the files it writes are restored when a later local stage fails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from poetflow.pipeline.runner import PackageFacts, PackageOutcome, RunContext, StageOutcome

if TYPE_CHECKING:
    from poetflow.versioning.plan import VersionPlan

__all__ = ["VersionStage", "version_outcomes"]


def version_outcomes(plan: VersionPlan) -> dict[str, PackageOutcome]:
    """Each planned package: bumped (and why), constraints moved only, or unchanged."""
    outcomes = {}
    for entry in plan.packages:
        if entry.changed:
            status, detail = "bumped", f"{entry.current} -> {entry.next}"
        elif entry.constraint_updates:
            status, detail = "constraints", "dependency constraints moved"
        else:
            status, detail = "unchanged", "nothing to release"
        facts = PackageFacts(version=entry.next, reasons=entry.reasons)
        outcomes[entry.name] = PackageOutcome(status, detail, facts=facts)
    return outcomes


@dataclass
class VersionStage:
    name: str = "version"

    def run(self, ctx: RunContext) -> StageOutcome:
        from poetflow.versioning.plan import plan_versions
        from poetflow.versioning.release import apply_plan, files_to_write
        from poetflow.workspace import load_workspace

        state = ctx.state
        plan = state.plan or plan_versions(ctx.workspace, ctx.selected, "auto")
        state.plan = plan
        packages = version_outcomes(plan)
        state.targets = [entry.name for entry in plan.releases] + [
            name for name in state.targets if name not in {e.name for e in plan.releases}
        ]
        if not plan.touched:
            return StageOutcome(self.name, "succeeded", "nothing to release", packages)
        # Snapshot the files first: if build or sign fails later, they are put back.
        files = files_to_write(ctx.workspace, plan, changelog=True)
        snapshot = {path: path.read_bytes() if path.exists() else None for path in files}
        result = apply_plan(ctx.workspace, plan, changelog=True, dry_run=ctx.dry_run)
        state.version_result = result
        if not ctx.dry_run:
            state.written = snapshot
            state.workspace = load_workspace(ctx.workspace.root)
        summary = ", ".join(f"{e.name} {e.current} -> {e.next}" for e in plan.releases)
        return StageOutcome(self.name, "succeeded", summary or "constraints only", packages)
