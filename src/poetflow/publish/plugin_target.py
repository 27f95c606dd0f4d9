"""A ``poetflow.publishers`` plugin as a publish target (an artifact store, a bucket...).

The engine treats it like an index: packages in dependency order, ``jobs`` at a time, the
files the plugin already holds skipped (when the plugin can list them: its optional
``lookup``), dependents of a failure blocked, hooks and the report as for an index. The
plugin's ``publish()`` is called once per package with only the files it lacks, never in
a dry run. An answer lost to a crash is looked up again, as for an index upload.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from poetflow.distributions import Distribution
from poetflow.errors import ConfigError
from poetflow.index import IndexFile
from poetflow.publish.repositories import Repository
from poetflow.publish.targets import Listing, RemoteCheck, TargetFailure, UploadAnswer

if TYPE_CHECKING:
    from poetflow.publish.results import PublishOptions
    from poetflow.publish.targets import TargetRequest
    from poetflow.workspace import Workspace

__all__ = ["PluginTarget", "open_target"]

logger = logging.getLogger(__name__)

_ANSWERS = ("uploaded", "skipped", "failed")


def open_target(
    request: TargetRequest,
    workspace: Workspace,
    options: PublishOptions,
    env: Mapping[str, str],
) -> PluginTarget:
    """Load the named plugin; an unknown or unusable name is a ConfigError (exit 2)."""
    from poetflow.plugins import PUBLISHERS, available, load_plugin

    name = request.name or ""
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
    return PluginTarget(
        name, loaded.info.distribution, loaded.obj, dict(workspace.config.publish.options)
    )


@dataclass(frozen=True)
class PluginTarget:
    """A loaded publisher plugin and the ``[tool.poetflow.publish.options]`` it gets."""

    name: str
    distribution: str
    plugin: Any
    options: Mapping[str, Any]

    @property
    def repository(self) -> Repository:
        return Repository(self.name, f"plugin:{self.name}", "", f"plugin from {self.distribution}")

    @property
    def credentials_source(self) -> str:
        return f"plugin {self.name} ({self.distribution})"

    def connect(self) -> None:
        """A plugin brings its own credentials: nothing to set up."""

    def close(self) -> None:
        """Nothing held open on the plugin's behalf."""

    def project_url(self, project: str) -> str:
        return f"plugin:{self.name}"

    def listing(self, project: str) -> Listing:
        """What the plugin's ``lookup(project, options)`` lists (nothing without a lookup)."""
        lookup = getattr(self.plugin, "lookup", None)
        if lookup is None:
            return Listing({})
        try:
            files = {
                item.filename: IndexFile(
                    item.filename, item.url or self.project_url(project), item.sha256.lower()
                )
                for item in lookup(project, self.options)
            }
        except Exception as exc:  # a third-party lookup's crash fails this package only
            logger.debug("publisher %s lookup crashed", self.name, exc_info=True)
            raise TargetFailure(
                f"publisher {self.name!r} could not list {project}: {type(exc).__name__}: {exc}"
            ) from None
        return Listing(files)

    def check(self, distribution: Distribution, listing: Listing) -> tuple[RemoteCheck, str | None]:
        remote = listing.get(distribution.filename)
        if remote is None:
            return "absent", None
        return ("same" if remote.sha256 == distribution.sha256 else "different"), remote.url

    def upload(
        self, project: str, version: str, files: Sequence[Distribution]
    ) -> Iterator[UploadAnswer]:
        from poetflow.plugins import PublishRequest

        request = PublishRequest(
            package=project,
            version=version,
            files=tuple(item.path for item in files),
            options=self.options,
        )
        try:
            answers = {answer.path.name: answer for answer in self.plugin.publish(request)}
        except Exception as exc:  # a third-party publisher's crash fails this package only
            logger.debug("publisher %s crashed", self.name, exc_info=True)
            answers = {}
            failure = f"publisher {self.name!r} failed: {type(exc).__name__}: {exc}"
        else:
            failure = ""
        landed = self._landed(project, files) if failure else {}
        for item in files:
            answer = answers.get(item.filename)
            if item.filename in landed:
                yield UploadAnswer(
                    item, "uploaded", "landed despite a lost answer", 1, landed[item.filename]
                )
            elif answer is None or answer.status not in _ANSWERS:
                if failure:
                    detail = failure
                elif answer is None:
                    detail = f"publisher {self.name!r} did not report this file"
                else:
                    detail = f"publisher {self.name!r} answered {answer.status!r} for this file"
                yield UploadAnswer(item, "failed", detail)
            else:
                yield UploadAnswer(item, answer.status, answer.detail, 1, answer.url)

    def _landed(self, project: str, files: Sequence[Distribution]) -> dict[str, str]:
        """After a crash: the files the plugin holds now with our content, by name -> URL."""
        try:
            listing = self.listing(project)
        except TargetFailure:
            return {}
        landed = {}
        for item in files:
            verdict, url = self.check(item, listing)
            if verdict == "same":
                landed[item.filename] = url or self.project_url(project)
        return landed
