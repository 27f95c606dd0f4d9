"""``poetflow run`` end to end: select, plan, run the stages, restore on failure, report."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from poetflow.errors import DirtyWorkingTreeError, UsageError
from poetflow.pipeline.runner import (
    PipelineResult,
    RunContext,
    RunOptions,
    RunState,
    StageEvent,
    run_stages,
)
from poetflow.pipeline.stages import STAGE_NAMES, create_stage
from poetflow.selection import Selection, select_packages, shared_paths
from poetflow.workspace import Package, Workspace

__all__ = ["RunOptions", "RunOutcome", "choose_stages", "run_pipeline"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunOutcome:
    """The pipeline result plus what a report needs about each package."""

    workspace: Workspace
    selected: tuple[str, ...]
    result: PipelineResult
    versions_before: dict[str, str | None] = field(default_factory=dict)
    restored: bool = False


def choose_stages(workspace: Workspace, options: RunOptions) -> list[str]:
    """The stage names to run, validated, in pipeline order."""
    settings = workspace.config.pipeline
    wanted = options.stages or settings.stages
    skip = set(options.skip) | set(settings.skip)
    unknown = sorted((set(wanted) | skip) - set(STAGE_NAMES))
    if unknown:
        raise UsageError(
            f"Unknown pipeline stage {unknown[0]!r}.",
            hint=f"Stages are: {', '.join(STAGE_NAMES)}.",
        )
    return [name for name in STAGE_NAMES if name in wanted and name not in skip]


def publish_candidates(workspace: Workspace, packages: Sequence[Package]) -> list[str]:
    """Packages whose current version was tagged at HEAD: released by an earlier attempt
    of this run that may have stopped before its upload finished."""
    from poetflow.git import Repository

    repo = Repository.open(workspace.root)
    if not repo.has_commits:
        return []
    head = repo.head_id()
    at_head = {tag.name for tag in repo.tags() if tag.commit == head}
    settings = workspace.config.version
    return [p.name for p in packages if p.version and settings.tag_for(p, p.version) in at_head]


def run_pipeline(
    workspace: Workspace,
    selection: Selection,
    options: RunOptions,
    *,
    on_stage: StageEvent | None = None,
) -> RunOutcome:
    """Run the release pipeline on ``selection``.

    With no explicit selection, the packages with commits since their last release (and
    their dependents) are tested and released, which is what CI wants on every push.
    """
    from poetflow.hooks.running import run_pipeline_hooks
    from poetflow.telemetry import Telemetry

    names = choose_stages(workspace, options)
    explicit = select_packages(workspace, selection)
    plan = None
    if "version" in names:
        from poetflow.versioning.plan import plan_versions

        plan = plan_versions(workspace, explicit, "auto", merged=True)
    if selection.is_everything and not selection.all and plan is not None:
        touched = {entry.name for entry in plan.touched}
        selected = tuple(p for p in workspace.packages if p.name in touched)
    else:
        selected = explicit
    state = RunState(workspace=workspace, plan=plan, stages=tuple(names))
    if "version" not in names:
        # Without a version stage, build and publish what the selection holds as it is.
        state.targets = [p.name for p in selected]
    elif {"publish", "announce"} & set(names):
        state.targets = publish_candidates(workspace, explicit)
    ctx = RunContext(selected=selected, options=options, state=state)
    if {"build", "publish"} & set(names):
        # Both go dependencies first, and a cycle has no order: refuse it (exit 2) before
        # the version stage writes anything, not when the build stage starts.
        workspace.graph.order([p.name for p in selected])
    before = {p.name: p.version for p in workspace.packages}
    releasing = bool(state.targets) or bool(plan and plan.releases)
    # Only a real release commits and tags what was built from the work tree.
    tags_the_build = "release" in names and bool(plan and plan.releases) and not options.dry_run
    if tags_the_build and not (options.allow_dirty or workspace.config.pipeline.allow_dirty):
        _preflight_clean(workspace)
    if "publish" in names:
        _preflight_publish(workspace, options, selected, credentials=releasing)
    if "announce" in names and releasing:
        _preflight_announce(workspace)

    telemetry = Telemetry.start(pipeline="poetflow run", endpoint=options.telemetry_endpoint)
    run_pipeline_hooks(workspace, "pre-run", dry_run=options.dry_run)
    restored = False
    try:
        result = run_stages(
            [create_stage(name) for name in names], ctx, on_stage=on_stage, telemetry=telemetry
        )
        if not result.failed and _relock_due(state):
            from poetflow.pipeline.stages.lock import RelockStage

            more = run_stages([RelockStage()], ctx, on_stage=on_stage, telemetry=telemetry)
            result = PipelineResult(more.outcomes, result.duration + more.duration)
    except BaseException:
        # One way back: the version stage's transaction, rolled back from its journal.
        if state.transaction is not None and state.transaction.open:
            state.transaction.abort()
        raise
    transaction = state.transaction
    if transaction is not None and transaction.open:
        # Not committed (no release stage ran): kept when the run went well, rolled back
        # when a later local stage failed.
        if result.failed:
            transaction.abort()
            restored = True
        else:
            transaction.finish()
    telemetry.shutdown(result="failure" if result.failed else "success")
    if result.failed:
        run_pipeline_hooks(workspace, "on-failure", dry_run=options.dry_run)
    else:
        run_pipeline_hooks(ctx.workspace, "post-run", dry_run=options.dry_run)
    return RunOutcome(
        workspace=workspace if restored else ctx.workspace,
        selected=tuple(p.name for p in selected),
        result=result,
        versions_before=before,
        restored=restored,
    )


def _relock_due(state: RunState) -> bool:
    """Locks that waited for this run's members to be published: relock them now (the
    journal says which, so a rerun after a failed relock tries again)."""
    from poetflow.git import find_git_dir
    from poetflow.versioning.journal import read_journal

    publish = next((o for o in state.outcomes if o.name == "publish"), None)
    if publish is None or publish.status != "succeeded":
        return False
    git_dir = find_git_dir(state.workspace.root)
    try:
        journal = read_journal(git_dir) if git_dir is not None else None
    except (ValueError, KeyError, TypeError):
        return False
    return journal is not None and journal.phase == "tagged"


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


def _preflight_announce(workspace: Workspace) -> None:
    """A code host named without its token or project is bad input: say so before
    anything is tested, tagged or uploaded, not after the upload."""
    import os

    from poetflow.announce.engine import open_provider

    provider = open_provider(workspace, os.environ)
    if provider is not None:
        provider.close()


def _preflight_publish(
    workspace: Workspace,
    options: RunOptions,
    packages: Sequence[Package],
    *,
    credentials: bool,
) -> None:
    """An unknown repository or a bad URL, a package that would reach an index without its
    runtime dependency, and missing credentials when there is something to upload, are
    bad input: say so before anything is tested or written (``--dry-run`` too)."""
    from poetflow.pipeline.stages.publish import run_publish_options
    from poetflow.publish.credentials import resolve_credentials
    from poetflow.publish.repositories import resolve_repository
    from poetflow.publish.routes import check_package_repositories, check_routes, goes_to
    from poetflow.publish.targets import requested_targets

    publish_options = run_publish_options(
        RunContext(selected=tuple(packages), options=options, state=RunState(workspace))
    )
    requests = requested_targets(workspace, publish_options)
    check_package_repositories(workspace, packages, os.environ)
    check_routes(workspace, packages, [request.repository for request in requests])
    for request in requests:
        if request.kind != "index":
            continue
        target = resolve_repository(workspace, request.name, options.repository_url)
        if credentials and any(goes_to(package, request.repository) for package in packages):
            resolve_credentials(target)
