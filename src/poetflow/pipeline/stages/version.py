"""The version stage: next versions from conventional commits, dependents' constraints,
locks and changelogs, written as one journalled transaction that the release stage
commits and tags, and that the engine rolls back when a later local stage fails."""

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
        from poetflow.git import Repository
        from poetflow.versioning.plan import plan_versions
        from poetflow.versioning.release import VersionResult, prepare_release, write_release
        from poetflow.workspace import load_workspace

        state = ctx.state
        plan = state.plan or plan_versions(ctx.workspace, ctx.selected, "auto", merged=True)
        state.plan = plan
        packages = version_outcomes(plan)
        state.targets = [entry.name for entry in plan.releases] + [
            name for name in state.targets if name not in {e.name for e in plan.releases}
        ]
        if not plan.touched:
            return StageOutcome(self.name, "succeeded", "nothing to release", packages)
        if plan.merged is not None:
            return self._merged(ctx, plan, packages)
        # The release stage commits and tags what this stage writes; a lock that must
        # wait for a member to be published is relocked after the publish stage.
        releasing = "release" in state.stages or not state.stages
        repo = Repository.open(ctx.workspace.root)
        prepared = prepare_release(
            ctx.workspace,
            plan,
            changelog=True,
            commit=releasing,
            tag=releasing,
            keep_written=False,
            defer_locks=releasing and "publish" in state.stages,
            repo=repo,
        )
        transaction = write_release(
            ctx.workspace, prepared, repo, command="poetflow run", dry_run=ctx.dry_run
        )
        state.transaction = transaction
        state.version_result = VersionResult(
            plan,
            prepared.files,
            None,
            prepared.tags,
            False,
            ctx.dry_run,
            prepared.locks,
            prepared.planned.deferred,
        )
        if not ctx.dry_run:
            state.workspace = load_workspace(ctx.workspace.root)
        summary = ", ".join(f"{e.name} {e.current} -> {e.next}" for e in plan.releases)
        for deferred in prepared.planned.deferred:
            summary += f"; {deferred.describe()}: relocked after publishing"
        return StageOutcome(self.name, "succeeded", summary or "constraints only", packages)

    def _merged(
        self, ctx: RunContext, plan: VersionPlan, packages: dict[str, PackageOutcome]
    ) -> StageOutcome:
        """A merged release pull request wrote the files already: nothing is written,
        the tags are only planned and checked (the release stage makes them)."""
        from poetflow.git import Repository
        from poetflow.versioning.merged import merged_tags
        from poetflow.versioning.release import VersionResult
        from poetflow.versioning.transaction import PlannedRelease, validate

        assert plan.merged is not None
        tags = merged_tags(ctx.workspace, plan)
        validate(
            PlannedRelease(ctx.workspace.root, (), None, tags, keep_written=True),
            Repository.open(ctx.workspace.root),
        )
        ctx.state.merged_tags = tags
        names = tuple(tag.name for tag in tags)
        ctx.state.version_result = VersionResult(plan, (), None, names, False, ctx.dry_run)
        summary = ", ".join(f"{e.name} {e.next}" for e in plan.releases)
        return StageOutcome(
            self.name,
            "succeeded",
            f"{summary}: as merged in {plan.merged.commit[:7]}, not bumped again",
            packages,
        )
