"""The stages of ``poetflow run``: thin adapters from each engine to the stage contract.

Order (local and reversible first, the upload last): test -> version -> build -> sign ->
release (commit, tag, push) -> publish. Files written by ``version`` are restored when a
later local stage fails, so a failed build leaves neither a release commit nor bumped
versions behind, and a rerun computes the same versions again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from poetflow.pipeline.runner import PackageOutcome, RunContext, StageOutcome
from poetflow.workspace import Package, load_workspace

__all__ = [
    "STAGE_NAMES",
    "BuildStage",
    "PublishStage",
    "ReleaseStage",
    "SignStage",
    "TestStage",
    "VersionStage",
    "publish_candidates",
    "restore_files",
]

logger = logging.getLogger(__name__)

STAGE_NAMES: tuple[str, ...] = ("test", "version", "build", "sign", "release", "publish")


def _packages(ctx: RunContext, names: list[str]) -> tuple[Package, ...]:
    wanted = set(names)
    return tuple(p for p in ctx.workspace.packages if p.name in wanted)


def release_names(ctx: RunContext) -> list[str]:
    """The packages this run releases: bumped now, or released at HEAD by an earlier try."""
    names: list[str] = list(ctx.options.get("release_names", ()))
    for name in ctx.options.get("pending_publish", ()):
        if name not in names:
            names.append(name)
    return names


@dataclass
class TestStage:
    """Each selected package's QA commands (poetflow.qa)."""

    __test__ = False
    name: str = "test"

    def run(self, ctx: RunContext) -> StageOutcome:
        from poetflow.qa import TestOptions, run_tests

        if ctx.dry_run:
            names = ", ".join(p.name for p in ctx.selected) or "nothing"
            return StageOutcome(self.name, "skipped", f"would test {names}")
        if not ctx.selected:
            return StageOutcome(self.name, "skipped", "no package to test")
        junit = ctx.options.get("report_dir")
        report = run_tests(
            ctx.workspace,
            ctx.selected,
            TestOptions(
                env=ctx.options.get("test_env"),
                jobs=int(ctx.options.get("jobs", 1)),
                junit_xml=Path(junit) / "junit.xml" if junit else None,
            ),
        )
        packages = {
            p.name: PackageOutcome(
                p.status,
                p.error or (p.failed_command.display if p.failed_command else ""),
                p.duration,
                {"tests": p.counts, "output": p.output if p.status != "passed" else ""},
            )
            for p in report.packages
        }
        failed = [p.name for p in report.packages if p.status != "passed"]
        data = {"junit": str(report.junit_xml) if report.junit_xml else None}
        if failed:
            return StageOutcome(
                self.name, "failed", f"tests failed in {', '.join(failed)}", packages, data=data
            )
        return StageOutcome(self.name, "succeeded", f"{len(packages)} passed", packages, data=data)


@dataclass
class VersionStage:
    """Auto bump from conventional commits, constraints of dependents, changelogs."""

    name: str = "version"

    def run(self, ctx: RunContext) -> StageOutcome:
        from poetflow.versioning import apply_plan, files_to_write, plan_versions

        plan = ctx.options.get("plan") or plan_versions(ctx.workspace, ctx.selected, "auto")
        ctx.options = {**ctx.options, "plan": plan}
        packages = {
            entry.name: PackageOutcome(
                "bumped" if entry.changed else "unchanged",
                f"{entry.current} -> {entry.next}" if entry.changed else "nothing to release",
                data={"version": entry.next, "reasons": entry.reasons},
            )
            for entry in plan.packages
        }
        if not plan.touched:
            return StageOutcome(self.name, "succeeded", "nothing to release", packages)
        # Snapshot the files first: if build or sign fails later, they are put back.
        # (Computed without the dry-run apply, which would log its hooks as "would run".)
        files = files_to_write(ctx.workspace, plan, changelog=True)
        snapshot = {path: path.read_bytes() if path.exists() else None for path in files}
        result = apply_plan(ctx.workspace, plan, changelog=True, dry_run=ctx.dry_run)
        ctx.options = {
            **ctx.options,
            "written_files": snapshot if not ctx.dry_run else {},
            "version_result": result,
            "release_names": [entry.name for entry in plan.releases],
        }
        if not ctx.dry_run:
            ctx.workspace = load_workspace(ctx.workspace.root)
        summary = ", ".join(f"{e.name} {e.current} -> {e.next}" for e in plan.releases)
        return StageOutcome(self.name, "succeeded", summary or "constraints only", packages)


def restore_files(snapshot: Mapping[Path, bytes | None]) -> None:
    """Put back the files the version stage wrote (used when a later local stage fails)."""
    for path, content in snapshot.items():
        if content is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(content)


@dataclass
class BuildStage:
    """sdist + wheel of every package this run releases (poetflow.build)."""

    name: str = "build"

    def run(self, ctx: RunContext) -> StageOutcome:
        from poetflow.build import BuildOptions, build_packages

        targets = _packages(ctx, release_names(ctx))
        if not targets:
            return StageOutcome(self.name, "skipped", "nothing to build")
        report = build_packages(
            ctx.workspace, targets, BuildOptions(jobs=ctx.options.get("jobs"), dry_run=ctx.dry_run)
        )
        packages = {
            p.name: PackageOutcome(
                p.status,
                p.error or p.reason,
                p.duration,
                {"artifacts": [a.path for a in p.artifacts]},
            )
            for p in report.packages
        }
        by_package = {p.name: [a.path for a in p.artifacts] for p in report.packages}
        ctx.options = {**ctx.options, "artifacts": by_package}
        if not report.ok:
            bad = [p.name for p in report.packages if not p.ok]
            return StageOutcome(self.name, "failed", f"build failed for {', '.join(bad)}", packages)
        counts: dict[str, int] = {}
        for entry in packages.values():
            counts[entry.status] = counts.get(entry.status, 0) + 1
        summary = ", ".join(f"{number} {status}" for status, number in counts.items())
        return StageOutcome(self.name, "succeeded", summary, packages)


@dataclass
class SignStage:
    """Sigstore bundles and PEP 740 attestations beside every artifact (poetflow.signing)."""

    name: str = "sign"

    def run(self, ctx: RunContext) -> StageOutcome:
        if not ctx.options.get("sign"):
            return StageOutcome(self.name, "skipped", "signing not requested (--sign)")
        from poetflow.signing import sign_artifacts, signing_options

        by_package: dict[str, list[Path]] = dict(ctx.options.get("artifacts", {}))
        artifacts = [path for paths in by_package.values() for path in paths]
        if not artifacts:
            return StageOutcome(self.name, "skipped", "nothing to sign")
        if ctx.dry_run:
            return StageOutcome(self.name, "skipped", f"would sign {len(artifacts)} files")
        from poetflow.stages import StageHooks

        options = signing_options(ctx.workspace.config.section("signing"), root=ctx.workspace.root)
        packages = _packages(ctx, list(by_package))
        hooks = StageHooks(ctx.workspace, "sign", packages, dry_run=ctx.dry_run)
        signed = hooks.run_together(
            packages, lambda: sign_artifacts(artifacts, options), artifacts=by_package
        )
        packages_signed = {
            name: PackageOutcome("signed", f"{len(paths)} files", data={"signed": True})
            for name, paths in by_package.items()
            if paths
        }
        return StageOutcome(self.name, "succeeded", f"{len(signed)} files signed", packages_signed)


@dataclass
class ReleaseStage:
    """The release commit, annotated tags (changelog as message) and, on request, the push."""

    name: str = "release"

    def run(self, ctx: RunContext) -> StageOutcome:
        from poetflow.git import Repository
        from poetflow.versioning import commit_release, push_release, tag_release
        from poetflow.versioning.release import release_tags

        result = ctx.options.get("version_result")
        if result is None or not result.files:
            return StageOutcome(self.name, "skipped", "no new versions to commit")
        if ctx.dry_run:
            return StageOutcome(
                self.name, "skipped", f"would commit and tag {len(result.files)} files"
            )
        repo = Repository.open(ctx.workspace.root)
        commit = commit_release(repo, result.plan, result.files)
        ctx.options = {**ctx.options, "written_files": {}}  # committed: nothing to restore
        tags = release_tags(result.plan)
        for tag, members in tags.items():
            tag_release(repo, tag, f"Release {', '.join(members)} ({tag})")
        pushed = bool(ctx.options.get("push"))
        if pushed:
            push_release(repo, list(tags), branch=True)
        summary = f"commit {commit[:7]}, tags {', '.join(tags) or '-'}" + (
            ", pushed" if pushed else ""
        )
        return StageOutcome(
            self.name, "succeeded", summary, data={"commit": commit, "tags": list(tags)}
        )


@dataclass
class PublishStage:
    """Upload what is not on the index yet, dependencies first (poetflow.publish)."""

    name: str = "publish"

    def run(self, ctx: RunContext) -> StageOutcome:
        from poetflow.publish import PublishOptions, publish_packages

        targets = _packages(ctx, release_names(ctx))
        if not targets:
            return StageOutcome(self.name, "skipped", "nothing to publish")
        report = publish_packages(
            ctx.workspace,
            targets,
            PublishOptions(
                repository=ctx.options.get("repository"),
                repository_url=ctx.options.get("repository_url"),
                dry_run=ctx.dry_run,
                build=True,
                sign=False,  # the sign stage already wrote bundles and attestations
            ),
        )
        packages = {
            p.name: PackageOutcome(
                p.status,
                p.detail,
                p.duration,
                {
                    "artifacts": [f.path for f in p.files],
                    "published_to": {
                        f.filename: [f.url] for f in p.files if f.status in ("uploaded", "skipped")
                    },
                },
            )
            for p in report.packages
        }
        data = {"repository": report.repository.name, "url": report.repository.url}
        if not report.ok:
            bad = [p.name for p in report.packages if p.status in ("failed", "blocked")]
            return StageOutcome(
                self.name, "failed", f"publish failed for {', '.join(bad)}", packages, data=data
            )
        uploaded = report.count("uploaded")
        skipped = report.count("skipped")
        return StageOutcome(
            self.name,
            "succeeded",
            f"{uploaded} uploaded, {skipped} already there",
            packages,
            data=data,
        )


def publish_candidates(ctx: RunContext, packages: Sequence[Package]) -> list[str]:
    """Packages whose current version was tagged at HEAD: released by an earlier attempt
    of this run that may have stopped before its upload finished."""
    from poetflow.git import Repository
    from poetflow.versioning.settings import version_settings

    repo = Repository.open(ctx.workspace.root)
    if not repo.has_commits:
        return []
    head = repo.head_id()
    at_head = {tag.name for tag in repo.tags() if tag.commit == head}
    settings = version_settings(ctx.workspace)
    return [p.name for p in packages if p.version and settings.tag_for(p, p.version) in at_head]
