"""The release stage: the release commit, annotated tags and, on request, the push."""

from __future__ import annotations

from dataclasses import dataclass

from poetflow.pipeline.runner import RunContext, StageOutcome

__all__ = ["ReleaseStage"]


@dataclass
class ReleaseStage:
    name: str = "release"

    def run(self, ctx: RunContext) -> StageOutcome:
        from poetflow.git import Repository
        from poetflow.versioning.release import (
            commit_release,
            push_release,
            release_tags,
            tag_release,
        )

        result = ctx.state.version_result
        if result is None or not result.files:
            return StageOutcome(self.name, "skipped", "no new versions to commit")
        if ctx.dry_run:
            return StageOutcome(
                self.name, "skipped", f"would commit and tag {len(result.files)} files"
            )
        repo = Repository.open(ctx.workspace.root)
        commit = commit_release(repo, result.plan, result.files)
        ctx.state.written = {}  # committed: nothing to restore
        tags = release_tags(result.plan)
        for tag, members in tags.items():
            tag_release(repo, tag, f"Release {', '.join(members)} ({tag})")
        ctx.state.commit = commit
        ctx.state.tags = list(tags)
        if ctx.options.push:
            push_release(repo, list(tags), branch=True)
        summary = f"commit {commit[:7]}, tags {', '.join(tags) or '-'}" + (
            ", pushed" if ctx.options.push else ""
        )
        return StageOutcome(self.name, "succeeded", summary)
