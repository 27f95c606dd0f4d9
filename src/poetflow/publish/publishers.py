"""Publishing through a ``poetflow.publishers`` plugin instead of an index upload."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from poetflow.distributions import Distribution
from poetflow.errors import ConfigError, PublishError
from poetflow.hooks.running import HookFailedError
from poetflow.publish.repositories import Repository
from poetflow.workspace import Package, Workspace

if TYPE_CHECKING:
    from poetflow.hooks.stage import StageHooks
    from poetflow.publish.results import FileResult, PackageResult, PublishEvent

__all__ = ["PluginPublisher", "configured_publisher", "load_publisher", "publish_with_plugin"]

logger = logging.getLogger(__name__)

_STATUSES = ("uploaded", "skipped", "failed", "would upload")


@dataclass(frozen=True)
class PluginPublisher:
    """A loaded publisher plugin and where it comes from."""

    name: str
    distribution: str
    obj: Any
    options: Mapping[str, Any]

    @property
    def repository(self) -> Repository:
        """What the report names as its target."""
        return Repository(self.name, f"plugin:{self.name}", "", f"plugin from {self.distribution}")


def configured_publisher(workspace: Workspace, name: str | None) -> str | None:
    """``--publisher`` or ``[tool.poetflow.publish] publisher`` (None: upload to an index)."""
    if name:
        return name
    return workspace.config.publish.publisher


def load_publisher(workspace: Workspace, name: str) -> PluginPublisher:
    """Load the named plugin; an unknown or unusable name is a ConfigError (exit 2)."""
    from poetflow.plugins import PUBLISHERS, available, load_plugin

    where = workspace.config.source or workspace.root / "pyproject.toml"
    installed = available(PUBLISHERS)
    found = next((item for item in installed if item[0].name == name), None)
    if found is None:
        names = ", ".join(info.name for info, _ep in installed) or "none"
        raise ConfigError(
            f"{where}: publisher {name!r} (--publisher or [tool.poetflow.publish] publisher) is "
            f"not an installed poetflow.publishers plugin (installed: {names}).",
            hint="Install the plugin or fix the name: `poetflow plugins` lists them.",
        )
    loaded = load_plugin(*found)
    if loaded.status != "loaded":
        raise ConfigError(
            f"{where}: publisher {name!r} from {loaded.info.distribution} cannot be used: "
            f"{loaded.error}."
        )
    options = workspace.config.publish.options
    return PluginPublisher(name, loaded.info.distribution, loaded.obj, dict(options))


def _package(
    publisher: PluginPublisher,
    package: Package,
    distributions: Sequence[Distribution],
    dry_run: bool,
    emit: Callable[[PublishEvent], None],
) -> PackageResult:
    from poetflow.plugins import PublishRequest
    from poetflow.publish.engine import _file_result, _package_status
    from poetflow.publish.results import PackageResult, PublishEvent

    started = time.monotonic()
    url = f"plugin:{publisher.name}"
    version = package.version or (distributions[0].version if distributions else "")
    if not distributions:
        if dry_run:
            detail = "not built yet: a real run builds it first"
            return PackageResult(package.name, version, "would publish", (), detail)
        detail = "no sdist or wheel to publish: run `poetflow build`"
        return PackageResult(package.name, version, "failed", (), detail)
    request = PublishRequest(
        package=package.name,
        version=version,
        files=tuple(item.path for item in distributions),
        dry_run=dry_run,
        options=publisher.options,
    )
    try:
        answers = {answer.path.name: answer for answer in publisher.obj.publish(request)}
    except Exception as exc:  # a third-party publisher's crash fails this package only
        logger.debug("publisher %s crashed", publisher.name, exc_info=True)
        answers = {}
        failure = f"publisher {publisher.name!r} failed: {type(exc).__name__}: {exc}"
    else:
        failure = ""
    results: list[FileResult] = []
    for item in distributions:
        answer = answers.get(item.filename)
        if answer is None or answer.status not in _STATUSES:
            detail = failure or f"publisher {publisher.name!r} did not report this file"
            result = _file_result(item, "failed", url, started, detail)
        else:
            result = _file_result(
                item, answer.status, answer.url or url, started, answer.detail, attempts=1
            )
        results.append(result)
        emit(PublishEvent("file-finished", package.name, file=result))
    failed = [item.detail for item in results if item.status == "failed"]
    return PackageResult(
        name=package.name,
        version=version,
        status=_package_status(results, dry_run),
        files=tuple(results),
        detail=failed[0] if failed else "",
        duration=time.monotonic() - started,
    )


def publish_with_plugin(
    publisher: PluginPublisher,
    workspace: Workspace,
    order: Sequence[str],
    by_name: Mapping[str, Package],
    files: Mapping[str, Sequence[Distribution]],
    hooks: StageHooks,
    dry_run: bool,
    emit: Callable[[PublishEvent], None],
) -> dict[str, PackageResult]:
    """Hand each package to the plugin in dependency order; dependents of a failure are blocked."""
    from poetflow.publish.engine import _blocked
    from poetflow.publish.results import PackageResult, PublishEvent

    results: dict[str, PackageResult] = {}
    for name in order:
        package = by_name[name]
        distributions = files.get(name, [])
        emit(PublishEvent("package-started", name))
        bad = [
            dep
            for dep in workspace.graph.dependencies_of(name)
            if dep in results and results[dep].status in ("failed", "blocked")
        ]
        if bad:
            result = _blocked(package, distributions, bad, f"plugin:{publisher.name}")
        else:
            try:
                result = hooks.run(
                    package,
                    partial(_package, publisher, package, distributions, dry_run, emit),
                    artifacts=[item.path for item in distributions],
                    succeeded=lambda done: done.status not in ("failed", "blocked"),
                )
            except (HookFailedError, PublishError) as exc:
                held = getattr(exc, "result", None)
                if isinstance(held, PackageResult):
                    result = PackageResult(
                        held.name, held.version, "failed", held.files, str(exc), held.duration
                    )
                else:
                    result = PackageResult(name, package.version or "", "failed", (), str(exc))
        results[name] = result
        emit(PublishEvent("package-finished", name, result=result))
    return results
