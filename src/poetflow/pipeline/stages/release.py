"""The release stage: the version stage's transaction committed and tagged, then pushed."""

from __future__ import annotations

from dataclasses import dataclass

from poetflow.pipeline.runner import RunContext, StageOutcome

__all__ = ["ReleaseStage"]


@dataclass
class ReleaseStage:
    name: str = "release"

    def run(self, ctx: RunContext) -> StageOutcome:
        from poetflow.git import Repository
        from poetflow.versioning.release import push_release

        result = ctx.state.version_result
        if result is not None and result.plan.merged is not None:
            return self._tag_merged(ctx)
        if result is None or not result.files:
            return StageOutcome(self.name, "skipped", "no new versions to commit")
        if ctx.dry_run or ctx.state.transaction is None:
            return StageOutcome(
                self.name, "skipped", f"would commit and tag {len(result.files)} files"
            )
        transaction = ctx.state.transaction
        commit = transaction.commit()
        tags = transaction.tag()
        transaction.finish()
        ctx.state.commit = commit
        ctx.state.tags = tags
        if ctx.options.push:
            push_release(Repository.open(ctx.workspace.root), tags, branch=True)
        summary = f"commit {(commit or '')[:7]}, tags {', '.join(tags) or '-'}" + (
            ", pushed" if ctx.options.push else ""
        )
        return StageOutcome(self.name, "succeeded", summary)

    def _tag_merged(self, ctx: RunContext) -> StageOutcome:
        """A merged release pull request: its commit gets the tags, nothing is committed."""
        from poetflow.git import Repository
        from poetflow.versioning.merged import tag_merged_release
        from poetflow.versioning.release import push_release

        state = ctx.state
        assert state.version_result is not None
        plan = state.version_result.plan
        assert plan.merged is not None
        where = plan.merged.commit[:7]
        if ctx.dry_run:
            names = ", ".join(tag.name for tag in state.merged_tags)
            return StageOutcome(self.name, "skipped", f"would tag {where}: {names}")
        repo = Repository.open(ctx.workspace.root)
        tags = tag_merged_release(repo, ctx.workspace, plan, state.merged_tags)
        state.commit = plan.merged.commit
        state.tags = tags
        if ctx.options.push:
            push_release(repo, tags, branch=False)
        summary = f"tags {', '.join(tags)} on the merged release {where}" + (
            ", pushed" if ctx.options.push else ""
        )
        return StageOutcome(self.name, "succeeded", summary)
