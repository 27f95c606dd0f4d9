"""The publish engine: dependencies first, files already on the index skipped, failures contained.

Each package goes through :func:`publish_package` (look up, then upload what is missing);
a package whose dependency failed is ``blocked`` and never uploaded, so the index never
holds a release whose internal dependency is missing. Independent packages run in parallel.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace

from poetflow.distributions import Distribution
from poetflow.errors import PublishError
from poetflow.hooks.running import HookFailedError
from poetflow.hooks.stage import StageHooks
from poetflow.index import IndexClient
from poetflow.publish.artifacts import build_distributions, collect_distributions
from poetflow.publish.credentials import Credentials, TrustedPublishing, resolve_credentials
from poetflow.publish.publishers import configured_publisher, load_publisher, publish_with_plugin
from poetflow.publish.repositories import Repository, resolve_repository
from poetflow.publish.results import (
    EventCallback,
    FileResult,
    FileStatus,
    PackageResult,
    PackageStatus,
    PublishEvent,
    PublishOptions,
    PublishReport,
)
from poetflow.publish.uploader import Listing, Uploader, UploadFailure
from poetflow.workspace import Package, Workspace

__all__ = [
    "PublishSession",
    "publish_package",
    "publish_packages",
]

logger = logging.getLogger(__name__)


@dataclass
class PublishSession:
    """Everything one package's publish needs; shared by all workers of a run."""

    repository: Repository
    credentials: Credentials
    options: PublishOptions
    uploader: Uploader
    on_event: EventCallback

    # Index lookups started ahead of time: they do not depend on publish order, so a long
    # dependency chain waits only for uploads, not for a lookup per package as well.
    prefetched: dict[str, Future[Listing]] = field(default_factory=dict)
    # pre-/post-publish hooks and plugins around each package (None: no hooks at all).
    hooks: StageHooks | None = None

    def listing(self, name: str) -> Listing:
        """The package's files on the index (a ``Listing``), prefetched when possible."""
        future = self.prefetched.pop(name, None)
        if future is not None:
            return future.result()
        return self.uploader.listing(name)

    def emit(self, event: PublishEvent) -> None:
        try:
            self.on_event(event)
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
    session: PublishSession, package: Package, distributions: Sequence[Distribution]
) -> PackageResult:
    """Publish one package's files: the unit that pre-/post-publish hooks wrap.

    The index is read once; files already there with the same sha256 are skipped, a
    file there with other content fails the package before anything of it is uploaded.
    """
    started = time.monotonic()
    session.emit(PublishEvent("package-started", package.name))
    if not distributions:
        if session.options.dry_run:
            detail = "not built yet: a real run builds it first"
            return _finish(session, package.name, package.version or "", [], started, detail)
        detail = "no sdist or wheel to publish: run `poetflow build`"
        empty = PackageResult(package.name, package.version or "", "failed", (), detail)
        session.emit(PublishEvent("package-finished", package.name, result=empty))
        return empty
    version = package.version or distributions[0].version
    uploader = session.uploader
    project_url = uploader.project_url(package.name)
    results: list[FileResult] = []
    try:
        listing = session.listing(package.name)
        verdicts = [(item, *uploader.check(item, listing)) for item in distributions]
    except UploadFailure as exc:
        results = [
            _file_result(item, "failed", project_url, started, str(exc)) for item in distributions
        ]
        return _finish(session, package.name, version, results, started, str(exc))
    clash = [item for item, verdict, _url in verdicts if verdict == "different"]
    if clash:
        detail = (
            f"version {version} already published with different content: bump the version "
            f"({', '.join(item.filename for item in clash)} differ from the index)"
        )
        for item, verdict, url in verdicts:
            status: FileStatus = "failed" if verdict == "different" else "blocked"
            if verdict == "same":
                status = "skipped"
            results.append(_file_result(item, status, url or project_url, started, detail))
        return _finish(session, package.name, version, results, started, detail)
    failure = ""
    for item, verdict, url in verdicts:
        file_started = time.monotonic()
        if verdict == "same":
            result = _file_result(
                item, "skipped", url or project_url, file_started, "already published"
            )
        elif failure:
            result = _file_result(
                item, "blocked", project_url, file_started, "an earlier file failed"
            )
        elif session.options.dry_run:
            result = _file_result(item, "would upload", project_url, file_started)
        else:
            try:
                detail, attempts = uploader.upload(item)
                result = _file_result(item, "uploaded", project_url, file_started, detail, attempts)
            except UploadFailure as exc:
                failure = str(exc)
                result = _file_result(
                    item, "failed", project_url, file_started, failure, exc.attempts
                )
        results.append(result)
        session.emit(PublishEvent("file-finished", package.name, file=result))
    return _finish(session, package.name, version, results, started, failure)


def _finish(
    session: PublishSession,
    name: str,
    version: str,
    files: list[FileResult],
    started: float,
    detail: str,
) -> PackageResult:
    result = PackageResult(
        name=name,
        version=version,
        status=_package_status(files, session.options.dry_run),
        files=tuple(files),
        detail=detail,
        duration=time.monotonic() - started,
    )
    session.emit(PublishEvent("package-finished", name, result=result))
    return result


def _blocked(
    package: Package, distributions: Sequence[Distribution], by: list[str], project_url: str
) -> PackageResult:
    detail = f"not uploaded: its dependency {', '.join(by)} did not publish"
    files = tuple(
        _file_result(item, "blocked", project_url, time.monotonic(), detail)
        for item in distributions
    )
    return PackageResult(package.name, package.version or "", "blocked", files, detail)


def _mint_if_trusted(
    resolved: Credentials | TrustedPublishing,
    repository: Repository,
    env: Mapping[str, str],
    client: IndexClient,
) -> Credentials:
    if isinstance(resolved, TrustedPublishing):
        from poetflow.publish.trusted import mint_upload_token

        return mint_upload_token(repository, resolved, env, client)
    return resolved


def _wants_signing(workspace: Workspace, options: PublishOptions) -> bool:
    if options.sign is not None:
        return options.sign
    return workspace.config.publish.sign


def _sign(
    workspace: Workspace,
    files: Mapping[str, Sequence[Distribution]],
    dry_run: bool,
    env: Mapping[str, str],
) -> None:
    """Sign every file before anything is uploaded (one certificate for the whole run).

    A dry run only checks that an identity token is available.
    """
    from poetflow.signing.options import signing_options
    from poetflow.signing.sign import sign_artifacts
    from poetflow.signing.tokens import resolve_identity_token

    signing = signing_options(workspace.config.signing, root=workspace.root, environ=env)
    paths = [item.path for items in files.values() for item in items]
    if dry_run:
        resolve_identity_token(signing, env)
    elif paths:
        # pre-/post-sign hooks of every package around the one signing session.
        signed = [workspace.by_name[name] for name, items in files.items() if items]
        hooks = StageHooks(workspace, "sign", signed)
        hooks.run_together(
            signed,
            lambda: sign_artifacts(paths, signing, env),
            artifacts={name: [item.path for item in items] for name, items in files.items()},
        )


def _unpublished(
    session: PublishSession, files: Mapping[str, Sequence[Distribution]]
) -> dict[str, list[Distribution]]:
    """The files the index does not hold yet, from the prefetched listings.

    A rerun after a failed upload would otherwise sign again every file it is about to
    skip: a new transparency-log entry per file, and bundles on disk that no longer match
    what the index serves. A file whose presence cannot be read is signed (the upload will
    find out).
    """
    kept: dict[str, list[Distribution]] = {}
    for name, distributions in files.items():
        future = session.prefetched.get(name)  # left in place: the upload reads it again
        try:
            listing = future.result() if future else session.uploader.listing(name)
            kept[name] = [
                d for d in distributions if session.uploader.check(d, listing)[0] != "same"
            ]
        except UploadFailure:
            kept[name] = list(distributions)
    return kept


def publish_packages(
    workspace: Workspace,
    packages: Sequence[Package],
    options: PublishOptions,
    on_event: EventCallback | None = None,
    distributions: Mapping[str, Sequence[Distribution]] | None = None,
) -> PublishReport:
    """Publish ``packages`` (dependencies first) and report every file.

    Raises PublishError / MissingCredentialsError (exit 2) before anything is uploaded
    when the repository, credentials or artifacts are missing. Upload failures do not
    raise: they are in the report (``report.ok`` is False).
    ``distributions`` (by package name) overrides what ``dist/`` holds, e.g. the
    artifacts a build just reported.
    """
    started = time.monotonic()
    env = os.environ if options.env is None else options.env
    publisher_name = configured_publisher(workspace, options.publisher)
    if publisher_name is not None:
        return _publish_by_plugin(
            workspace, packages, options, on_event, distributions, publisher_name, env
        )
    repository = resolve_repository(workspace, options.repository, options.repository_url, env)
    order = workspace.graph.order([package.name for package in packages])
    by_name = {package.name: package for package in packages}
    # Credentials first: missing ones must stop the run before anything is built or sent.
    resolved = resolve_credentials(repository, env)
    # Hooks are checked (a missing program is exit 2) before anything is built or sent.
    hooks = StageHooks(workspace, "publish", packages, dry_run=options.dry_run)
    if distributions is not None:
        files = {name: list(items) for name, items in distributions.items()}
    elif options.build:
        files = build_distributions(workspace, packages, options.jobs, dry_run=options.dry_run)
    else:
        files = collect_distributions(packages, allow_missing=options.dry_run)
    client = IndexClient(timeout=options.timeout, pool_size=max(2, options.jobs))
    try:
        credentials = _mint_if_trusted(resolved, repository, env, client)
        session = PublishSession(
            repository=repository,
            credentials=credentials,
            options=options,
            uploader=Uploader(client, repository, credentials, options.retry),
            on_event=on_event or (lambda _event: None),
            hooks=hooks,
        )
        with ThreadPoolExecutor(max(1, options.jobs)) as lookups:
            for name in order:
                if files.get(name):
                    session.prefetched[name] = lookups.submit(session.uploader.listing, name)
            if _wants_signing(workspace, options):
                unsigned = files if options.dry_run else _unpublished(session, files)
                _sign(workspace, unsigned, options.dry_run, env)
            results = _schedule(session, workspace, order, by_name, files)
        results = _locate_uploads(session, results)
    finally:
        client.close()
    report = PublishReport(
        repository=repository,
        packages=tuple(results[name] for name in order),
        dry_run=options.dry_run,
        duration=time.monotonic() - started,
        credentials_source=credentials.source,
    )
    hooks.finish(report.to_dict(), report.ok)
    return report


def _publish_by_plugin(
    workspace: Workspace,
    packages: Sequence[Package],
    options: PublishOptions,
    on_event: EventCallback | None,
    distributions: Mapping[str, Sequence[Distribution]] | None,
    name: str,
    env: Mapping[str, str],
) -> PublishReport:
    """publish_packages with a publisher plugin as the target: no index, no credentials."""
    started = time.monotonic()
    publisher = load_publisher(workspace, name)
    order = workspace.graph.order([package.name for package in packages])
    hooks = StageHooks(workspace, "publish", packages, dry_run=options.dry_run)
    if distributions is not None:
        files = {key: list(items) for key, items in distributions.items()}
    elif options.build:
        files = build_distributions(workspace, packages, options.jobs, dry_run=options.dry_run)
    else:
        files = collect_distributions(packages, allow_missing=options.dry_run)
    if _wants_signing(workspace, options):
        _sign(workspace, files, options.dry_run, env)
    callback = on_event or (lambda _event: None)

    def emit(event: PublishEvent) -> None:
        try:
            callback(event)
        except Exception:  # a broken reporter must not break a publish half-way
            logger.debug("publish event callback failed", exc_info=True)

    by_name = {package.name: package for package in packages}
    results = publish_with_plugin(
        publisher, workspace, order, by_name, files, hooks, options.dry_run, emit
    )
    report = PublishReport(
        repository=publisher.repository,
        packages=tuple(results[key] for key in order),
        dry_run=options.dry_run,
        duration=time.monotonic() - started,
        credentials_source=f"plugin {publisher.name} ({publisher.distribution})",
    )
    hooks.finish(report.to_dict(), report.ok)
    return report


def _locate_uploads(
    session: PublishSession, results: Mapping[str, PackageResult]
) -> dict[str, PackageResult]:
    """Replace the project URL of each uploaded file by the file's own URL on the index.

    Best effort and after all uploads, so it costs no time on the dependency chain; an
    index that does not list the file yet (a CDN-cached page) keeps the project URL.
    """
    uploaded = [
        name
        for name, result in results.items()
        if any(item.status == "uploaded" for item in result.files)
    ]
    if not uploaded:
        return dict(results)

    def lookup(name: str) -> tuple[str, Listing | None]:
        try:
            return name, session.uploader.listing(name)
        except UploadFailure:
            return name, None

    located = dict(results)
    with ThreadPoolExecutor(max(1, session.options.jobs)) as pool:
        for name, listing in pool.map(lookup, uploaded):
            if listing is None:
                continue
            files = []
            for item in results[name].files:
                remote = listing.get(item.filename) if item.status == "uploaded" else None
                files.append(replace(item, url=remote.url) if remote is not None else item)
            located[name] = replace(results[name], files=tuple(files))
    return located


def _schedule(
    session: PublishSession,
    workspace: Workspace,
    order: list[str],
    by_name: Mapping[str, Package],
    files: Mapping[str, Sequence[Distribution]],
) -> dict[str, PackageResult]:
    """Run publish_package for each package once all its selected dependencies published."""
    selected = set(order)
    dependencies = {
        name: [dep for dep in workspace.graph.dependencies_of(name) if dep in selected]
        for name in order
    }
    results: dict[str, PackageResult] = {}
    pending = list(order)
    running: dict[Future[PackageResult], str] = {}
    jobs = max(1, session.options.jobs)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        while pending or running:
            progressed = False
            for name in list(pending):
                deps = dependencies[name]
                bad = [
                    dep
                    for dep in deps
                    if dep in results and results[dep].status in ("failed", "blocked")
                ]
                if bad:
                    result = _blocked(
                        by_name[name], files.get(name, []), bad, session.uploader.project_url(name)
                    )
                    results[name] = result
                    session.emit(PublishEvent("package-finished", name, result=result))
                elif all(dep in results for dep in deps):
                    running[pool.submit(_guarded, session, by_name[name], files.get(name, []))] = (
                        name
                    )
                else:
                    continue
                pending.remove(name)
                progressed = True
            if running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    results[running.pop(future)] = future.result()
            elif not progressed:  # pragma: no cover - order() already rejects cycles
                break
    return results


def _guarded(
    session: PublishSession, package: Package, distributions: Sequence[Distribution]
) -> PackageResult:
    """publish_package with unexpected crashes turned into a failed package, not a dead run."""
    try:
        if session.hooks is None:
            return publish_package(session, package, distributions)
        return session.hooks.run(
            package,
            lambda: publish_package(session, package, distributions),
            artifacts=[item.path for item in distributions],
            succeeded=lambda result: result.status not in ("failed", "blocked"),
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
    url = session.uploader.project_url(package.name)
    files = tuple(
        _file_result(item, "failed", url, time.monotonic(), detail) for item in distributions
    )
    return PackageResult(package.name, package.version or "", "failed", files, detail)
