"""The publish engine: each target gets what it lacks, dependencies first, failures contained.

A run publishes to one or more targets (an index, a publisher plugin: see
:mod:`poetflow.publish.targets`), each with its own dependency-ordered schedule, so a slow
target never holds back another. On each target a package goes through
:func:`publish_package` (look up, then upload what is missing); a package whose dependency
failed there is ``blocked`` and never uploaded there, so no target holds a release whose
internal dependency is missing. Independent packages run in parallel. A package goes
only to the indexes its own settings allow (:mod:`poetflow.publish.routes`); a run that
would leave an index without a package's runtime dependency is refused before anything
is built or sent.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field, replace

from poetflow.distributions import Distribution
from poetflow.errors import PublishError, StepFailedError
from poetflow.hooks.running import HookFailedError
from poetflow.hooks.stage import StageHooks
from poetflow.publish.artifacts import build_distributions, collect_distributions
from poetflow.publish.results import (
    EventCallback,
    FileResult,
    FileStatus,
    PackageResult,
    PackageStatus,
    PublishEvent,
    PublishOptions,
    PublishReport,
    PublishRun,
)
from poetflow.publish.routes import (
    check_package_repositories,
    check_routes,
    goes_to,
    withheld_reason,
)
from poetflow.publish.targets import (
    Listing,
    Target,
    TargetFailure,
    open_target,
    requested_targets,
)
from poetflow.scheduler import Scheduler
from poetflow.workspace import Package, Workspace

__all__ = [
    "TargetRun",
    "publish_package",
    "publish_packages",
    "publish_run",
    "publish_to_targets",
]

logger = logging.getLogger(__name__)

_FAILED: tuple[PackageStatus, ...] = ("failed", "blocked")


@dataclass
class TargetRun:
    """One target's share of a run: what each package's publish needs, shared by workers."""

    target: Target
    options: PublishOptions
    on_event: EventCallback
    # pre-/post-publish hooks and plugins around each package (None: no hooks at all).
    hooks: StageHooks | None = None
    # The packages this target gets, in publish order (per-package targets filter them).
    order: tuple[str, ...] = ()
    # Lookups started ahead of time: they do not depend on publish order, so a long
    # dependency chain waits only for uploads, not for a lookup per package as well.
    prefetched: dict[str, Future[Listing]] = field(default_factory=dict)

    def listing(self, name: str) -> Listing:
        """The package's files on the target, prefetched when possible."""
        future = self.prefetched.pop(name, None)
        if future is not None:
            return future.result()
        return self.target.listing(name)

    def emit(self, event: PublishEvent) -> None:
        try:
            self.on_event(replace(event, target=self.target.repository.name))
        except Exception:  # a broken reporter must not break an upload half-way
            logger.debug("publish event callback failed", exc_info=True)


def _file_result(
    distribution: Distribution,
    status: FileStatus,
    url: str,
    started: float,
    detail: str = "",
    attempts: int = 0,
) -> FileResult:
    return FileResult(
        package=distribution.project,
        version=distribution.version,
        filename=distribution.filename,
        path=str(distribution.path),
        kind=distribution.kind,
        status=status,
        sha256=distribution.sha256,
        size=distribution.size,
        duration=time.monotonic() - started,
        url=url,
        detail=detail,
        attempts=attempts,
    )


def _package_status(files: Sequence[FileResult], dry_run: bool) -> PackageStatus:
    statuses = {item.status for item in files}
    if not files and dry_run:
        return "would publish"
    if "failed" in statuses:
        return "failed"
    if "uploaded" in statuses:
        return "published"
    if "would upload" in statuses:
        return "would publish"
    return "skipped"


def publish_package(
    run: TargetRun, package: Package, distributions: Sequence[Distribution]
) -> PackageResult:
    """Publish one package's files to one target: the unit pre-/post-publish hooks wrap.

    The target is read once; files already there with the same sha256 are skipped, a
    file there with other content fails the package before anything of it is uploaded.
    """
    started = time.monotonic()
    dry_run = run.options.dry_run
    version = package.version or (distributions[0].version if distributions else "")
    if not distributions:
        if dry_run:
            detail = "not built yet: a real run builds it first"
            return PackageResult(package.name, version, "would publish", (), detail)
        detail = "no sdist or wheel to publish: run `poetflow build`"
        return PackageResult(package.name, version, "failed", (), detail)
    target = run.target
    project_url = target.project_url(package.name)
    try:
        listing = run.listing(package.name)
        verdicts = [(item, *target.check(item, listing)) for item in distributions]
    except TargetFailure as exc:
        results = [
            _file_result(item, "failed", project_url, started, str(exc)) for item in distributions
        ]
        return _finish(package.name, version, results, started, str(exc), dry_run)
    clash = [item for item, verdict, _url in verdicts if verdict == "different"]
    if clash:
        detail = (
            f"version {version} already published with different content: bump the version "
            f"({', '.join(item.filename for item in clash)} differ from {target.repository.name})"
        )
        results = []
        for item, verdict, url in verdicts:
            status: FileStatus = "failed" if verdict == "different" else "blocked"
            if verdict == "same":
                status = "skipped"
            results.append(_file_result(item, status, url or project_url, started, detail))
        return _finish(package.name, version, results, started, detail, dry_run)
    done: dict[str, FileResult] = {}

    def record(result: FileResult) -> None:
        done[result.filename] = result
        run.emit(PublishEvent("file-finished", package.name, file=result))

    missing = [item for item, verdict, _url in verdicts if verdict == "absent"]
    for item, verdict, url in verdicts:
        if verdict == "same":
            record(_file_result(item, "skipped", url or project_url, started, "already published"))
    failure = ""
    if dry_run:
        for item in missing:
            record(_file_result(item, "would upload", project_url, time.monotonic()))
    elif missing:
        file_started = time.monotonic()
        for answer in target.upload(package.name, version, missing):
            result = _file_result(
                answer.distribution,
                answer.status,
                answer.url or project_url,
                file_started,
                answer.detail,
                answer.attempts,
            )
            failure = failure or (answer.detail if answer.status == "failed" else "")
            record(result)
            file_started = time.monotonic()
        for item in missing:
            if item.filename not in done:
                record(
                    _file_result(
                        item, "blocked", project_url, file_started, "an earlier file failed"
                    )
                )
    results = [done[item.filename] for item in distributions]
    return _finish(package.name, version, results, started, failure, dry_run)


def _finish(
    name: str,
    version: str,
    files: list[FileResult],
    started: float,
    detail: str,
    dry_run: bool,
) -> PackageResult:
    return PackageResult(
        name=name,
        version=version,
        status=_package_status(files, dry_run),
        files=tuple(files),
        detail=detail,
        duration=time.monotonic() - started,
    )


def _blocked(
    run: TargetRun, package: Package, distributions: Sequence[Distribution], by: list[str]
) -> PackageResult:
    detail = f"not uploaded: its dependency {', '.join(by)} did not publish"
    url = run.target.project_url(package.name)
    files = tuple(
        _file_result(item, "blocked", url, time.monotonic(), detail) for item in distributions
    )
    return PackageResult(package.name, package.version or "", "blocked", files, detail)


def _guarded(
    run: TargetRun, package: Package, distributions: Sequence[Distribution]
) -> PackageResult:
    """publish_package with unexpected crashes turned into a failed package, not a dead run."""
    try:
        if run.hooks is None:
            return publish_package(run, package, distributions)
        return run.hooks.run(
            package,
            lambda: publish_package(run, package, distributions),
            artifacts=[item.path for item in distributions],
            succeeded=lambda result: result.status not in _FAILED,
        )
    except HookFailedError as exc:
        if isinstance(exc.result, PackageResult):  # a post-publish hook: the files are up
            return replace(exc.result, status="failed", detail=str(exc))
        detail = str(exc)
    except PublishError as exc:
        detail = str(exc)
    except Exception as exc:
        logger.debug("publishing %s crashed", package.name, exc_info=True)
        detail = f"unexpected {type(exc).__name__}: {exc}"
    url = run.target.project_url(package.name)
    files = tuple(
        _file_result(item, "failed", url, time.monotonic(), detail) for item in distributions
    )
    return PackageResult(package.name, package.version or "", "failed", files, detail)


def _wants_signing(workspace: Workspace, options: PublishOptions) -> bool:
    if options.sign is not None:
        return options.sign
    return workspace.config.publish.sign


def _unpublished(
    runs: Sequence[TargetRun], files: Mapping[str, Sequence[Distribution]]
) -> dict[str, list[Distribution]]:
    """The files some target does not hold yet, from the prefetched listings.

    A rerun after a failed upload would otherwise sign again every file it is about to
    skip: a new transparency-log entry per file, and bundles on disk that no longer match
    what the index serves. A file whose presence cannot be read is signed (the upload will
    find out).
    """
    kept: dict[str, list[Distribution]] = {}
    for name, distributions in files.items():
        wanted: list[Distribution] = []
        for item in distributions:
            for run in runs:
                if name not in run.order:
                    continue
                future = run.prefetched.get(name)  # left in place: the upload reads it again
                try:
                    listing = future.result() if future else run.target.listing(name)
                    held = run.target.check(item, listing)[0] == "same"
                except TargetFailure:
                    held = False
                if not held:
                    wanted.append(item)
                    break
        kept[name] = wanted
    return kept


def _sign(
    workspace: Workspace,
    files: Mapping[str, Sequence[Distribution]],
    options: PublishOptions,
    env: Mapping[str, str],
) -> tuple[str, ...]:
    """Sign the files before anything is uploaded, through the sign engine (one certificate,
    the sign hooks); returns the names of the files signed. A failure stops the upload."""
    from poetflow.signing.engine import sign_packages
    from poetflow.signing.options import signing_options

    signing = signing_options(workspace.config.signing, root=workspace.root, environ=env)
    report = sign_packages(
        workspace,
        {name: [item.path for item in items] for name, items in files.items()},
        signing,
        dry_run=options.dry_run,
        jobs=options.jobs,
        environ=env,
    )
    if not report.ok:
        failed = ", ".join(
            f"{item.name} ({item.detail or item.status})" for item in report.packages if not item.ok
        )
        raise StepFailedError(
            f"Signing before publishing failed for {failed}; nothing was uploaded.",
            hint="Fix the cause and rerun publish: files already on the index are skipped.",
        )
    return tuple(item.artifact.name for item in report.signed)


def _locate_uploads(
    run: TargetRun, results: Mapping[str, PackageResult]
) -> dict[str, PackageResult]:
    """Replace the project URL of each uploaded file by the file's own URL on the target.

    Best effort and after all uploads, so it costs no time on the dependency chain; a
    target that does not list the file yet (a CDN-cached page) keeps the project URL.
    """
    target = run.target
    uploaded = [
        name
        for name, result in results.items()
        if any(
            item.status == "uploaded" and item.url == target.project_url(name)
            for item in result.files
        )
    ]
    if not uploaded:
        return dict(results)

    def lookup(name: str) -> tuple[str, Listing | None]:
        try:
            return name, target.listing(name)
        except TargetFailure:
            return name, None

    located = dict(results)
    with ThreadPoolExecutor(max(1, run.options.jobs)) as pool:
        for name, listing in pool.map(lookup, uploaded):
            if listing is None:
                continue
            files = []
            for item in results[name].files:
                remote = listing.get(item.filename) if item.status == "uploaded" else None
                files.append(replace(item, url=remote.url) if remote is not None else item)
            located[name] = replace(results[name], files=tuple(files))
    return located


def _publish_to(
    run: TargetRun, workspace: Workspace, files: Mapping[str, Sequence[Distribution]]
) -> dict[str, PackageResult]:
    """One target's schedule: each package once its selected dependencies published there."""
    by_name = workspace.by_name
    order = run.order
    scheduler: Scheduler[PackageResult] = Scheduler(
        order,
        {name: workspace.graph.dependencies_of(name) for name in order},
        jobs=run.options.jobs,
        name="poetflow-publish",
    )
    results = scheduler.run(
        lambda name: _guarded(run, by_name[name], files.get(name, [])),
        is_failure=lambda result: result.status in _FAILED,
        blocked=lambda name, by: _blocked(run, by_name[name], files.get(name, []), by),
        on_start=lambda name: run.emit(PublishEvent("package-started", name)),
        on_done=lambda name, result: run.emit(
            PublishEvent("package-finished", name, result=result)
        ),
    )
    return _locate_uploads(run, results)


def publish_to_targets(
    workspace: Workspace,
    packages: Sequence[Package],
    options: PublishOptions,
    on_event: EventCallback | None = None,
    distributions: Mapping[str, Sequence[Distribution]] | None = None,
) -> tuple[PublishReport, ...]:
    """Publish ``packages`` (dependencies first) to every target the run asks for; one
    report per target, in the order they were asked for.

    Raises PublishError / MissingCredentialsError / ConfigError (exit 2) before anything
    is built or uploaded when a target, its credentials or the artifacts are missing.
    Upload failures do not raise: they are in the reports (``report.ok`` is False).
    ``distributions`` (by package name) overrides what ``dist/`` holds, e.g. the
    artifacts a build just reported.
    """
    started = time.monotonic()
    env = os.environ if options.env is None else options.env
    requests = requested_targets(workspace, options)
    # Bad routes are bad input: refused before credentials are read or anything is built.
    check_package_repositories(workspace, packages, env)
    check_routes(workspace, packages, [request.repository for request in requests])
    packages = [
        package
        for package in packages
        if any(goes_to(package, request.repository) for request in requests)
    ]
    # An index none of the packages goes to needs no credentials and gets no report.
    requests = [
        request
        for request in requests
        if any(goes_to(package, request.repository) for package in packages)
    ] or requests
    targets = [open_target(request, workspace, options, env) for request in requests]
    order = workspace.graph.order([package.name for package in packages])
    by_name = workspace.by_name
    try:
        # Hooks are checked (a missing program is exit 2) before anything is built or sent.
        hooks = StageHooks(workspace, "publish", packages, dry_run=options.dry_run)
        if distributions is not None:
            files = {name: list(items) for name, items in distributions.items()}
        elif options.build:
            files = build_distributions(workspace, packages, dry_run=options.dry_run)
        else:
            files = collect_distributions(packages, allow_missing=options.dry_run)
        for target in targets:
            target.connect()
        emit = on_event or (lambda _event: None)
        runs = [
            TargetRun(
                target,
                options,
                emit,
                hooks,
                tuple(name for name in order if goes_to(by_name[name], request.repository)),
            )
            for request, target in zip(requests, targets, strict=True)
        ]
        signed: tuple[str, ...] = ()
        with ExitStack() as stack:
            for run in runs:
                # A pool per target: a slow index's lookups never queue another's.
                lookups = stack.enter_context(
                    ThreadPoolExecutor(max(1, options.jobs), thread_name_prefix="lookup")
                )
                for name in run.order:
                    if files.get(name):
                        run.prefetched[name] = lookups.submit(run.target.listing, name)
            if _wants_signing(workspace, options):
                signed = _sign(workspace, _unpublished(runs, files), options, env)
            with ThreadPoolExecutor(max(1, len(runs)), thread_name_prefix="target") as each:
                outcomes = list(each.map(lambda run: _publish_to(run, workspace, files), runs))
    finally:
        for target in targets:
            target.close()
    reports = tuple(
        PublishReport(
            repository=run.target.repository,
            packages=tuple(results[name] for name in run.order),
            dry_run=options.dry_run,
            duration=time.monotonic() - started,
            credentials_source=run.target.credentials_source,
            signed=signed,
        )
        for run, results in zip(runs, outcomes, strict=True)
    )
    for report in reports:
        hooks.finish(report.to_dict(), report.ok)
    return reports


def publish_packages(
    workspace: Workspace,
    packages: Sequence[Package],
    options: PublishOptions,
    on_event: EventCallback | None = None,
    distributions: Mapping[str, Sequence[Distribution]] | None = None,
) -> PublishReport:
    """:func:`publish_to_targets` for a run with one target (``--repository`` or
    ``--publisher``): its report."""
    (report,) = publish_to_targets(workspace, packages, options, on_event, distributions)
    return report


def publish_run(
    workspace: Workspace,
    packages: Sequence[Package],
    options: PublishOptions,
    on_event: EventCallback | None = None,
    distributions: Mapping[str, Sequence[Distribution]] | None = None,
) -> PublishRun:
    """:func:`publish_to_targets`, with the packages the run publishes nowhere (private,
    or meant for other indexes) and why."""
    names = [request.repository for request in requested_targets(workspace, options)]
    withheld: dict[str, str] = {}
    for package in packages:
        reason = withheld_reason(package, names)
        if reason is not None:
            withheld[package.name] = reason
    if len(withheld) == len(packages):  # nothing goes anywhere: no index to open
        return PublishRun((), withheld)
    reports = publish_to_targets(workspace, packages, options, on_event, distributions)
    return PublishRun(reports, withheld)
