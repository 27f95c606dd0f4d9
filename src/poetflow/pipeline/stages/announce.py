"""The announce stage: the GitHub or GitLab release of each release tag of the run."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from poetflow.pipeline.runner import PackageFacts, PackageOutcome, RunContext, StageOutcome

__all__ = ["AnnounceStage", "run_tags"]


def run_tags(ctx: RunContext) -> list[str]:
    """The release tags of this run: those the release stage made; in a dry run those it
    would make; otherwise (a rerun after a failed publish) the tags of the targets'
    current versions that point at HEAD."""
    from poetflow.announce.engine import tagged_at_head

    state = ctx.state
    if state.tags:
        return list(state.tags)
    if ctx.dry_run and state.version_result is not None and state.version_result.tags:
        return list(state.version_result.tags)
    return tagged_at_head(ctx.workspace, ctx.targets(), at_head=True)


@dataclass
class AnnounceStage:
    """``tags`` None: the run's (:func:`run_tags`)."""

    tags: Sequence[str] | None = None
    name: str = "announce"

    def run(self, ctx: RunContext) -> StageOutcome:
        from poetflow.announce.engine import (
            AnnounceReport,
            announce_releases,
            open_provider,
            release_specs,
        )
        from poetflow.hooks.stage import StageHooks

        tags = list(self.tags) if self.tags is not None else run_tags(ctx)
        if not tags:
            return StageOutcome(self.name, "skipped", "no release tags to announce")
        result = ctx.state.version_result
        made_now = bool(ctx.state.tags) or (
            ctx.dry_run and result is not None and bool(result.tags)
        )
        # Without a code host there is nothing to push the tags for: say that first.
        provider = open_provider(ctx.workspace, os.environ)
        if provider is None:
            return StageOutcome(
                self.name,
                "skipped",
                "no code host to announce on ([tool.poetflow.announce] provider, or "
                "GITHUB_TOKEN / CI_JOB_TOKEN in CI)",
            )
        if self.tags is None and made_now and not ctx.options.push:
            # The host would make a release of a tag it does not have at its own default
            # branch: announce only what was pushed.
            provider.close()
            return StageOutcome(
                self.name,
                "skipped",
                "the new tags are not pushed (--push); `poetflow announce` after pushing them",
            )
        try:
            planned = ctx.state.plan if ctx.dry_run and not ctx.state.tags else None
            specs = release_specs(
                ctx.workspace,
                tags,
                plan=planned,
                artifacts=ctx.state.artifacts,
                dry_run=ctx.dry_run,
            )
            members = {name for _spec, names in specs for name in names}
            packages_of = [p for p in ctx.workspace.packages if p.name in members]
            # pre-/post-announce hooks: checked here (exit 2) before anything is written.
            hooks = StageHooks(ctx.workspace, self.name, packages_of, dry_run=ctx.dry_run)
            files = {
                name: [f.path for f in spec.files if f.package == name]
                for spec, names in specs
                for name in names
            }

            def announced(done: AnnounceReport, name: str) -> bool:
                return all(r.ok for r in done.releases if name in r.packages)

            report = hooks.run_together(
                packages_of,
                lambda: announce_releases(provider, specs, dry_run=ctx.dry_run),
                artifacts=files,
                succeeded=announced,
            )
            hooks.finish(report, report.ok)
        finally:
            provider.close()
        packages: dict[str, PackageOutcome] = {}
        for release in report.releases:
            status: str
            if release.result is not None:
                status = release.result.status
                detail = f"{release.tag}: {release.result.url or ''}".rstrip(": ")
                uploaded = len(release.result.uploaded)
                if uploaded:
                    detail += f" ({uploaded} files {'to upload' if ctx.dry_run else 'uploaded'})"
            else:
                status, detail = "failed", f"{release.tag}: {release.error}"
            for name in release.packages:
                version = ctx.workspace.by_name[name].version
                packages[name] = PackageOutcome(
                    status, detail, release.duration, PackageFacts(version=version)
                )
        if not report.ok:
            bad = [r.tag for r in report.releases if not r.ok]
            return StageOutcome(
                self.name,
                "failed",
                f"{provider.name} release failed for {', '.join(bad)}",
                packages,
                report=report,
            )
        counts: dict[str, int] = {}
        for release in report.releases:
            if release.result is not None:
                counts[release.result.status] = counts.get(release.result.status, 0) + 1
        summary = f"{provider.name}: " + ", ".join(f"{n} {s}" for s, n in counts.items())
        return StageOutcome(self.name, "succeeded", summary, packages, report=report)
