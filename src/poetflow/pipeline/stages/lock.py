"""Locks as stages: ``poetflow lock`` (check or refresh every selected lock), and the relock
``poetflow run`` does after publishing, for locks that resolve a just-released member from
an index (they could not name it before it was published)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from poetflow.pipeline.runner import PackageOutcome, RunContext, StageOutcome

if TYPE_CHECKING:
    from poetflow.lockfile.refresh import LockReport

__all__ = ["LockStage", "RelockStage", "lock_outcomes"]


def lock_outcomes(report: LockReport) -> dict[str, PackageOutcome]:
    return {
        result.package: PackageOutcome(result.action, result.detail, result.duration)
        for result in report.results
    }


@dataclass
class LockStage:
    """Check or refresh the selected packages' locks, dependencies first."""

    name: str = "lock"
    check: bool = False
    jobs: int = 1

    def run(self, ctx: RunContext) -> StageOutcome:
        import logging

        from poetflow.lockfile.refresh import refresh_locks

        logger = logging.getLogger("poetflow")

        def progress(result: object) -> None:
            from poetflow.lockfile.refresh import LockResult

            assert isinstance(result, LockResult)
            if result.action != "fresh":
                logger.info("%s: %s %s", result.path, result.action, result.detail)

        report = refresh_locks(
            ctx.workspace,
            [p.name for p in ctx.selected] + [""],
            check=self.check,
            jobs=self.jobs,
            dry_run=ctx.dry_run,
            on_done=progress,
        )
        failed = report.failed
        counts: dict[str, int] = {}
        for result in report.results:
            counts[result.action] = counts.get(result.action, 0) + 1
        summary = ", ".join(f"{n} {action}" for action, n in sorted(counts.items())) or "no locks"
        return StageOutcome(
            self.name,
            "failed" if failed else "succeeded",
            summary,
            lock_outcomes(report),
            report=report,
        )


@dataclass
class RelockStage:
    """After publishing: relock what the release's journal deferred, commit, push."""

    name: str = "lock"

    def run(self, ctx: RunContext) -> StageOutcome:
        from poetflow.git import Repository
        from poetflow.lockfile.refresh import refresh_locks
        from poetflow.versioning.journal import remove_journal
        from poetflow.versioning.release import push_release
        from poetflow.versioning.transaction import pending_journal

        repo = Repository.open(ctx.workspace.root)
        journal = pending_journal(repo)
        if journal is None or journal.phase != "tagged":
            return StageOutcome(self.name, "skipped", "nothing waits for a relock")
        owners = [str(item["owner"]) for item in journal.deferred]
        if ctx.dry_run:
            return StageOutcome(self.name, "skipped", f"would relock {', '.join(owners)}")
        # A fresh index page: Poetry's HTTP cache may predate the upload a moment ago.
        report = refresh_locks(ctx.workspace, owners, force=owners, no_cache=True)
        packages = lock_outcomes(report)
        if report.failed:
            first = report.failed[0]
            return StageOutcome(
                self.name,
                "failed",
                f"{first.path}: {first.detail}; rerun `poetflow run` to relock it",
                packages,
                report=report,
            )
        if report.files:
            names = ", ".join(owner or "root" for owner in owners)
            repo.commit_paths(
                list(report.files), f"chore(release): relock {names} on the released versions"
            )
            if ctx.options.push:
                push_release(repo, [], branch=True)
        remove_journal(repo.git_dir)
        return StageOutcome(self.name, "succeeded", f"relocked {', '.join(owners)}", packages)
