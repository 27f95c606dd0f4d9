"""The build engine: plan, stage, build, verify and record every selected package, in order."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from poetflow import __version__
from poetflow.build.backends import backend_kind
from poetflow.build.caching import BuildCache
from poetflow.build.fingerprint import (
    StoredBuild,
    artifacts_intact,
    compute_fingerprint,
    file_sha256,
    load_stored_build,
    remove_stored_build,
    save_stored_build,
)
from poetflow.build.reproducible import CommitTimes, environment_epoch
from poetflow.build.results import (
    Artifact,
    ArtifactKind,
    BuildEvent,
    BuildOptions,
    BuildReport,
    PackageBuild,
)
from poetflow.build.sources import SourceFile, SourceTree
from poetflow.build.staging import staging_directory
from poetflow.build.template import available_cores
from poetflow.build.workers import JOBS_PER_WORKER, BuildJob, BuildWorkers
from poetflow.errors import PoetFlowError
from poetflow.files import atomic_copy
from poetflow.hooks.stage import StageHooks
from poetflow.metadata import canonical_name
from poetflow.scheduler import Scheduler
from poetflow.workspace import Package, Workspace

__all__ = ["BuildVerificationError", "build_packages"]

logger = logging.getLogger(__name__)

EventCallback = Callable[[BuildEvent], None]

# poetry build does not add one; without it every build leaves `dist/` untracked in git.
# Written only into a dist/ folder PoetFlow creates (hatch and uv do the same).
_DIST_GITIGNORE = "# Created by poetflow build: build output is never committed.\n*\n"
# Worker processes pay off from this many builds on: the fork server starts in about the
# time poetry-core takes for that many small packages (and builds run here meanwhile).
_POOL_MIN_BUILDS = 6


class BuildVerificationError(PoetFlowError):
    """A built artifact would not be publishable (direct reference, bad metadata, bad RECORD)."""


@dataclass(frozen=True)
class _Context:
    workspace: Workspace
    options: BuildOptions
    sources: SourceTree
    commit_times: CommitTimes
    epoch: int | None
    settings: tuple[str, ...]
    hooks: StageHooks
    workers: BuildWorkers
    cache: BuildCache | None = None


@dataclass(frozen=True)
class _Plan:
    files: tuple[SourceFile, ...]
    fingerprint: str
    stored: StoredBuild | None
    reason: str | None  # None: up to date
    backend: str


def build_packages(
    workspace: Workspace,
    packages: Sequence[Package],
    options: BuildOptions,
    on_event: EventCallback | None = None,
) -> BuildReport:
    """Build ``packages`` (dependencies first, ``options.jobs`` at a time) into their ``dist/``.

    Raises WorkspaceCycleError / UsageError (exit 2) before anything is built. A package
    that fails does not raise: it is ``failed`` in the report, and the selected packages
    depending on it at runtime are ``blocked``; unrelated packages still build.
    ``on_event`` is called from the calling thread, one event at a time.
    """
    started = time.monotonic()
    emit = on_event or (lambda _event: None)
    names = [package.name for package in packages]
    order = [name for level in workspace.graph.levels(names) for name in level]
    epoch = options.source_date_epoch
    if epoch is None:
        epoch = environment_epoch()
    # pre-/post-build hooks and plugins; a hook whose program is missing is exit 2 here.
    hooks = StageHooks(
        workspace, "build", [workspace.by_name[n] for n in order], dry_run=options.dry_run
    )
    jobs = options.jobs or available_cores()
    context = _Context(
        workspace=workspace,
        options=options,
        sources=SourceTree(workspace.root),
        commit_times=CommitTimes(workspace.root, [workspace.by_name[n].relpath for n in order]),
        epoch=epoch,
        settings=_settings(epoch),
        hooks=hooks,
        workers=BuildWorkers(workspace, jobs, template=options.template),
        cache=None if options.dry_run else BuildCache.open(workspace.root, options.cache),
    )
    if not options.dry_run and _known_builds(context, order) >= _POOL_MIN_BUILDS:
        context.workers.start()
    emit(BuildEvent("planned", total=len(order)))
    scheduler: Scheduler[PackageBuild] = Scheduler(
        order,
        {name: workspace.graph.dependencies_of(name) for name in order},
        # Two packages per worker: while a worker builds one, the next one's inputs are
        # read, hashed and sent to it, so that it never waits for this process.
        jobs=jobs * JOBS_PER_WORKER if context.workers.parallel else jobs,
        name="poetflow-build",
    )
    try:
        results = scheduler.run(
            lambda name: _build_one(context, workspace.by_name[name]),
            is_failure=lambda result: not result.ok,
            blocked=lambda name, failed: _blocked(workspace.by_name[name], failed),
            on_start=lambda name: emit(BuildEvent("started", name)),
            on_done=lambda name, result: emit(BuildEvent("finished", name, result=result)),
        )
    finally:
        context.workers.close()
        if context.cache is not None:
            context.cache.close()
    report = BuildReport(
        packages=tuple(results[name] for name in order),
        duration=time.monotonic() - started,
        dry_run=options.dry_run,
    )
    hooks.finish(report, report.ok)
    return report


def _known_builds(context: _Context, order: Sequence[str]) -> int:
    """How many poetry-core builds are certain before any input is hashed: packages with
    no build record, or one of another version (a changed input is found out later)."""
    count = 0
    for name in order:
        package = context.workspace.by_name[name]
        if backend_kind(package.build_backend, context.options.builder) != "core":
            continue
        stored = load_stored_build(package.path / "dist")
        if context.options.force or stored is None or stored.version != (package.version or ""):
            count += 1
    return count


def _settings(epoch: int | None) -> tuple[str, ...]:
    """Inputs shared by every package; each adds its backend (poetry-core, poetry, ...)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        core = version("poetry-core")
    except PackageNotFoundError:  # pragma: no cover - poetry-core is a dependency
        core = "unknown"
    return (
        f"poetflow={__version__}",
        f"poetry-core={core}",
        f"epoch={'' if epoch is None else epoch}",
    )


def _blocked(package: Package, failed: list[str]) -> PackageBuild:
    return PackageBuild(
        name=package.name,
        version=package.version or "",
        status="blocked",
        error=f"not built: its dependency {', '.join(failed)} failed to build",
        reason="dependency failed",
    )


def _build_one(context: _Context, package: Package) -> PackageBuild:
    """Everything one package's build does, start to end; the place for pre-/post-build hooks.

    Never raises: any failure becomes a ``failed`` result naming the package.
    """
    started = time.monotonic()
    version = package.version or ""

    def build() -> PackageBuild:
        plan = _plan(context, package)
        if plan.reason is None and plan.stored is not None:
            result = PackageBuild(
                package.name,
                version,
                "up to date",
                plan.stored.artifacts,
                time.monotonic() - started,
                reason="inputs unchanged",
                backend=plan.backend,
            )
        elif context.options.dry_run:
            result = PackageBuild(
                package.name,
                version,
                "would build",
                (),
                time.monotonic() - started,
                reason=plan.reason or "",
                backend=plan.backend,
            )
        else:
            artifacts, cached = _build_or_restore(context, package, plan)
            result = PackageBuild(
                package.name,
                version,
                "cached" if cached else "built",
                artifacts,
                time.monotonic() - started,
                reason=plan.reason or "",
                backend=plan.backend,
            )
        return result

    try:
        result = context.hooks.run(
            package,
            build,
            result_artifacts=lambda built: [artifact.path for artifact in built.artifacts],
            succeeded=lambda built: built.ok,
        )
    except PoetFlowError as exc:
        result = _failed(package, started, str(exc))
    except Exception as exc:  # a crash in one package must not take the others down
        logger.debug("build of %s crashed", package.name, exc_info=True)
        result = _failed(package, started, f"unexpected {type(exc).__name__}: {exc}")
    return result


def _failed(package: Package, started: float, message: str) -> PackageBuild:
    return PackageBuild(
        package.name,
        package.version or "",
        "failed",
        (),
        time.monotonic() - started,
        error=message,
        reason="build failed",
    )


def _backend_label(context: _Context, package: Package) -> str:
    kind = backend_kind(package.build_backend, context.options.builder)
    if kind == "core":
        return "poetry-core"
    if kind == "poetry":
        return "poetry"
    return package.build_backend or "pep517"


def _plan(context: _Context, package: Package) -> _Plan:
    """Read the inputs, hash them, and say why a build is needed (None: it is not)."""
    files = tuple(context.sources.files(package))
    backend = _backend_label(context, package)
    # What the pyproject rewrite depends on besides the files: the policy and the versions
    # of the internal dependencies (a dependency's release makes its dependents stale).
    workspace = context.workspace
    pins = [
        f"{dep.name}={workspace.by_name[dep.name].version}"
        for dep in package.dependencies
        if dep.name in workspace.by_name
    ]
    settings = (*context.settings, backend, workspace.config.internal_constraint, *pins)
    fingerprint = compute_fingerprint(files, settings)
    stored = load_stored_build(package.path / "dist")
    if context.options.force:
        reason: str | None = "--force"
    elif stored is None:
        reason = "no previous build"
    elif stored.version != (package.version or ""):
        reason = f"version changed from {stored.version}"
    elif stored.fingerprint != fingerprint:
        reason = "inputs changed"
    elif not artifacts_intact(stored):
        reason = "artifacts missing or modified"
    else:
        reason = None
    return _Plan(files, fingerprint, stored, reason, backend)


def _build_or_restore(
    context: _Context, package: Package, plan: _Plan
) -> tuple[tuple[Artifact, ...], bool]:
    """The task cache's artifacts for these inputs when it has them (True), else a build
    whose artifacts are then stored; ``--force`` always builds. A cache that breaks
    costs a build, never a failure."""
    cache = context.cache
    if cache is None:
        return _run_build(context, package, plan), False
    epoch = context.epoch
    if epoch is None:
        epoch = context.commit_times.get(package.relpath)
    key = cache.key(package, plan.fingerprint, epoch)
    dist = package.path / "dist"
    restored = None
    if not context.options.force:
        try:
            if not dist.is_dir():
                dist.mkdir(parents=True)
                (dist / ".gitignore").write_text(_DIST_GITIGNORE, encoding="utf-8")
            _remove_stale(dist, package, plan.stored)
            restored = cache.restore(package, key, dist)
        except Exception:
            logger.warning("task cache lookup for %s failed; building it", package.name)
            logger.debug("cache lookup crashed", exc_info=True)
    if restored is not None:
        cache.save(dist, plan.fingerprint, package.version or "", restored)
        return restored, True
    artifacts = _run_build(context, package, plan)
    try:
        cache.record(key, artifacts)
    except Exception:
        logger.warning("storing the artifacts of %s in the task cache failed", package.name)
        logger.debug("cache store crashed", exc_info=True)
    return artifacts, False


def _run_build(context: _Context, package: Package, plan: _Plan) -> tuple[Artifact, ...]:
    dist = package.path / "dist"
    options = context.options
    kind = backend_kind(package.build_backend, options.builder)
    if kind == "core" and package.dynamic_version and package.version in (None, "0.0.0"):
        # poetry-core alone would stamp the placeholder version on the artifacts.
        raise PoetFlowError(
            f"{package.pyproject}: the version is set at build time by a Poetry plugin, "
            "which poetry-core alone does not run.",
            hint="Build it with --builder poetry.",
        )
    _remove_stale(dist, package, plan.stored)
    epoch = context.epoch
    if epoch is None:
        epoch = context.commit_times.get(package.relpath)
    with staging_directory(package.name) as temporary:
        job = BuildJob(package, plan.files, temporary, epoch, kind, options.timeout)
        built = context.workers.build(job)
        if built.problems:
            direct = any("direct reference" in problem for problem in built.problems)
            raise BuildVerificationError(
                f"the built artifacts are not publishable: {'; '.join(built.problems)}.",
                hint="Declare the dependency as a workspace member or with a version, "
                "not as a path outside the workspace."
                if direct
                else "Check the package's build configuration and its build backend.",
            )
        if not dist.is_dir():
            dist.mkdir(parents=True)
            (dist / ".gitignore").write_text(_DIST_GITIGNORE, encoding="utf-8")
        artifacts = (
            _place(built.sdist, dist, "sdist"),
            _place(built.wheel, dist, "wheel"),
        )
    save_stored_build(dist, StoredBuild(plan.fingerprint, package.version or "", artifacts))
    return artifacts


def _place(path: Path, dist: Path, kind: ArtifactKind) -> Artifact:
    target = dist / path.name
    sha256 = file_sha256(path)
    size = path.stat().st_size
    atomic_copy(path, target)  # readers never see half a wheel
    return Artifact(target, kind, sha256, size)


def _remove_stale(dist: Path, package: Package, stored: StoredBuild | None) -> None:
    """Before rebuilding, drop the record and this version's artifacts: if the build fails,
    nothing stale is left to be published by mistake. Other versions' files stay (as with
    poetry build)."""
    if not dist.is_dir():
        return
    remove_stored_build(dist)
    doomed = {artifact.path for artifact in stored.artifacts} if stored else set()
    if package.version:
        doomed |= {path for path in dist.iterdir() if _is_artifact_of(path, package)}
    for path in doomed:
        path.unlink(missing_ok=True)
        # Signatures and attestations of the old bytes would not match the new artifact.
        for companion in dist.glob(f"{path.name}.*"):
            if companion.name.endswith((".sigstore", ".sigstore.json", ".attestation")):
                companion.unlink(missing_ok=True)


def _is_artifact_of(path: Path, package: Package) -> bool:
    from packaging.version import InvalidVersion, Version

    # Imported here: the publish package imports the build engine.
    from poetflow.distributions import parse_distribution_filename

    parsed = parse_distribution_filename(path.name)
    if parsed is None:
        return False
    _kind, name, version = parsed
    try:
        return canonical_name(name) == package.name and Version(version) == Version(
            package.version or ""
        )
    except InvalidVersion:
        return False
