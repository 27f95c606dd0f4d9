"""``poetflow run`` end to end: select, plan, run the stages, restore on failure, report."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from poetflow.errors import DirtyWorkingTreeError, UsageError
from poetflow.pipeline.runner import PipelineResult, RunContext, Stage, StageOutcome, run_stages
from poetflow.pipeline.steps import (
    STAGE_NAMES,
    BuildStage,
    PublishStage,
    ReleaseStage,
    SignStage,
    TestStage,
    VersionStage,
    publish_candidates,
    restore_files,
)
from poetflow.selection import Selection, select_packages, shared_paths
from poetflow.workspace import Workspace

__all__ = ["RunOptions", "RunOutcome", "choose_stages", "run_pipeline"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOptions:
    """How ``poetflow run`` behaves; CLI flags override ``[tool.poetflow.pipeline]``."""

    stages: tuple[str, ...] | None = None
    skip: tuple[str, ...] = ()
    dry_run: bool = False
    sign: bool | None = None
    push: bool = False
    repository: str | None = None
    repository_url: str | None = None
    test_env: str | None = None
    jobs: int = 2
    report_dir: Path | None = None
    telemetry_endpoint: str | None = None
    allow_dirty: bool = False


@dataclass(frozen=True)
class RunOutcome:
    """The pipeline result plus what a report needs about each package."""

    workspace: Workspace
    selected: tuple[str, ...]
    result: PipelineResult
    versions_before: dict[str, str | None] = field(default_factory=dict)
    versions_after: dict[str, str | None] = field(default_factory=dict)
    restored: bool = False


def choose_stages(workspace: Workspace, options: RunOptions) -> list[str]:
    """The stage names to run, validated, in pipeline order."""
    section = workspace.config.section("pipeline")
    wanted = options.stages or tuple(section.get("stages", STAGE_NAMES))
    skip = set(options.skip) | set(section.get("skip", ()))
    unknown = sorted((set(wanted) | skip) - set(STAGE_NAMES))
    if unknown:
        raise UsageError(
            f"Unknown pipeline stage {unknown[0]!r}.",
            hint=f"Stages are: {', '.join(STAGE_NAMES)}.",
        )
    return [name for name in STAGE_NAMES if name in wanted and name not in skip]


def _stage_objects(names: Sequence[str]) -> list[Stage]:
    factories: dict[str, Callable[[], Stage]] = {
        "test": TestStage,
        "version": VersionStage,
        "build": BuildStage,
        "sign": SignStage,
        "release": ReleaseStage,
        "publish": PublishStage,
    }
    return [factories[name]() for name in names]


def run_pipeline(
    workspace: Workspace,
    selection: Selection,
    options: RunOptions,
    *,
    on_stage: Callable[[str, str, StageOutcome | None], None] | None = None,
) -> RunOutcome:
    """Run the release pipeline on ``selection``.

    With no explicit selection, the packages with commits since their last release (and
    their dependents) are tested and released, which is what CI wants on every push.
    """
    from poetflow.hooks import run_pipeline_hooks
    from poetflow.telemetry import Telemetry

    names = choose_stages(workspace, options)
    section = workspace.config.section("pipeline")
    sign = options.sign if options.sign is not None else bool(section.get("sign", False))
    explicit = select_packages(workspace, selection)
    plan = None
    if "version" in names:
        from poetflow.versioning import plan_versions

        plan = plan_versions(workspace, explicit, "auto")
    if selection.is_everything and not selection.all and plan is not None:
        touched = {entry.name for entry in plan.touched}
        selected = tuple(p for p in workspace.packages if p.name in touched)
    else:
        selected = explicit
    ctx = RunContext(
        workspace=workspace,
        selected=selected,
        dry_run=options.dry_run,
        options={
            "plan": plan,
            "sign": sign,
            "push": options.push,
            "repository": options.repository or section.get("repository"),
            "repository_url": options.repository_url,
            "test_env": options.test_env,
            "jobs": options.jobs,
            "report_dir": str(options.report_dir) if options.report_dir else None,
        },
    )
    if "version" not in names:
        # Without a version stage, build and publish what the selection holds as it is.
        ctx.options = {**ctx.options, "release_names": [p.name for p in selected]}
    elif "publish" in names:
        ctx.options = {**ctx.options, "pending_publish": publish_candidates(ctx, explicit)}
    before = {p.name: p.version for p in workspace.packages}
    releasing = bool(ctx.options.get("pending_publish")) or bool(plan and plan.releases)
    # Only a real release commits and tags what was built from the work tree.
    tags_the_build = "release" in names and bool(plan and plan.releases) and not options.dry_run
    if tags_the_build and not (options.allow_dirty or section.get("allow-dirty") is True):
        _preflight_clean(workspace)
    if "publish" in names and releasing:
        _preflight_publish(workspace, options, ctx.options.get("repository"))

    telemetry = Telemetry.start(pipeline="poetflow run", endpoint=options.telemetry_endpoint)
    run_pipeline_hooks(workspace, "pre-run", dry_run=options.dry_run)
    started = time.monotonic()
    restored = False
    try:
        result = run_stages(
            _stage_objects(names),
            ctx,
            on_stage=on_stage,
            span=telemetry.stage,
        )
    finally:
        snapshot = ctx.options.get("written_files") or {}
        if snapshot and (ctx.outcomes and any(o.status == "failed" for o in ctx.outcomes)):
            restore_files(snapshot)
            restored = True
    _record_metrics(telemetry, result)
    telemetry.shutdown(result="failure" if result.failed else "success")
    if result.failed:
        run_pipeline_hooks(workspace, "on-failure", dry_run=options.dry_run)
    else:
        run_pipeline_hooks(ctx.workspace, "post-run", dry_run=options.dry_run)
    logger.debug("pipeline finished in %.2fs", time.monotonic() - started)
    after = {p.name: p.version for p in (workspace if restored else ctx.workspace).packages}
    return RunOutcome(
        workspace=ctx.workspace,
        selected=tuple(p.name for p in selected),
        result=result,
        versions_before=before,
        versions_after=after,
        restored=restored,
    )


def _preflight_clean(workspace: Workspace) -> None:
    """A release builds the work tree and tags HEAD: an uncommitted change to a package
    would ship in artifacts that its tag does not contain. Refuse before anything runs."""
    from poetflow.git import Repository

    repo = Repository.open(workspace.root)
    prefix = workspace.root.relative_to(repo.workdir).as_posix()
    prefix = "" if prefix == "." else prefix + "/"
    watched = [prefix + "pyproject.toml"]
    watched += [package.relpath_from(repo.workdir) for package in workspace.packages]
    watched += [prefix + path for path in shared_paths(workspace)]
    changed = repo.uncommitted(watched)
    if changed:
        more = f" and {len(changed) - 3} more" if len(changed) > 3 else ""
        shown = ", ".join(changed[:3]) + more
        raise DirtyWorkingTreeError(
            f"The working tree of {repo.workdir} has uncommitted changes ({shown}); a release "
            "would build them into artifacts that its tag does not contain.",
            hint="Commit or stash them (`git status` lists them), or pass --allow-dirty to "
            "release anyway.",
        )


def _preflight_publish(workspace: Workspace, options: RunOptions, repository: Any) -> None:
    """Missing credentials are bad input: say so before anything is tested or written."""
    from poetflow.publish.credentials import resolve_credentials
    from poetflow.publish.repositories import resolve_repository

    target = resolve_repository(workspace, repository, options.repository_url)
    resolve_credentials(target)


def _record_metrics(telemetry: Any, result: PipelineResult) -> None:
    for outcome in result.outcomes:
        for name, package in outcome.packages.items():
            if outcome.name == "test" and package.status == "passed":
                telemetry.record_tested(name)
            elif outcome.name == "build" and package.status == "built":
                telemetry.record_built(name)
            elif outcome.name == "publish" and package.status == "published":
                telemetry.record_published(name)
