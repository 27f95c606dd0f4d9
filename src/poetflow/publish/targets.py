"""Where a publish run sends files: the :class:`Target` protocol and the kinds of target.

A target lists what it holds of a project, says whether a file there is the one about to
be published, and takes uploads. Everything else is the engine's (:mod:`poetflow.publish.
engine`), the same for every kind: dependency order, ``jobs`` at a time, files already
there skipped, signing only what is missing, hooks, blocked dependents, dry runs, the
report. A kind of target is one module with an ``open_target(request, workspace, options,
env)`` and one line in :data:`TARGET_KINDS`; one run may hold several targets.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from poetflow.distributions import Distribution
    from poetflow.index import IndexFile
    from poetflow.publish.repositories import Repository
    from poetflow.publish.results import PublishOptions
    from poetflow.workspace import Workspace

__all__ = [
    "TARGET_KINDS",
    "Listing",
    "RemoteCheck",
    "Target",
    "TargetFailure",
    "TargetRequest",
    "UploadAnswer",
    "UploadStatus",
    "open_target",
    "requested_targets",
]

RemoteCheck = Literal["absent", "same", "different"]
UploadStatus = Literal["uploaded", "skipped", "failed"]

# kind -> "module:function" opening a target of that kind (imported only when used).
TARGET_KINDS: Mapping[str, str] = {
    "index": "poetflow.publish.index_target:open_target",
    "plugin": "poetflow.publish.plugin_target:open_target",
}


class TargetFailure(Exception):
    """The target cannot answer or take a file; ``str()`` is one sentence for the report."""

    def __init__(self, message: str, attempts: int = 1) -> None:
        super().__init__(message)
        self.attempts = attempts


@dataclass(frozen=True)
class Listing:
    """A project's files on a target as one lookup saw them."""

    files: dict[str, IndexFile]

    def get(self, filename: str) -> IndexFile | None:
        return self.files.get(filename)


@dataclass(frozen=True)
class UploadAnswer:
    """What became of one file handed to :meth:`Target.upload`; ``url`` is the file's own
    URL when the target says it (else the engine looks it up after the run)."""

    distribution: Distribution
    status: UploadStatus
    detail: str = ""
    attempts: int = 1
    url: str = ""


class Target(Protocol):
    """One place a run publishes to. Methods may be called from several threads."""

    @property
    def repository(self) -> Repository:
        """What the report names as the target."""
        ...

    @property
    def credentials_source(self) -> str:
        """Where the credentials came from, in words (never the secret)."""
        ...

    def connect(self) -> None:
        """Network set-up before the first lookup (e.g. minting a trusted-publishing
        token); raises PoetFlowError when the target cannot be used."""
        ...

    def project_url(self, project: str) -> str: ...

    def listing(self, project: str) -> Listing:
        """The project's files (empty when it has none); raises TargetFailure."""
        ...

    def check(self, distribution: Distribution, listing: Listing) -> tuple[RemoteCheck, str | None]:
        """Is this exact file there already? The verdict and the file's URL there."""
        ...

    def upload(
        self, project: str, version: str, files: Sequence[Distribution]
    ) -> Iterator[UploadAnswer]:
        """Publish the files the target lacks, answering for each as it is done. Files
        left without an answer (the target stopped after a failure) are blocked."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class TargetRequest:
    """A target a run asked for: its kind (a key of :data:`TARGET_KINDS`) and name."""

    kind: str
    name: str | None

    @property
    def repository(self) -> str | None:
        """The index name packages' ``repositories`` are matched against (None: a plugin)."""
        if self.kind != "index":
            return None
        return self.name or "url"


def requested_targets(workspace: Workspace, options: PublishOptions) -> list[TargetRequest]:
    """``--publisher`` / ``[tool.poetflow.publish] publisher``; else the index of
    ``--repository-url``; else one index per ``--repository`` (repeatable), else per
    ``[tool.poetflow.publish] repositories`` / ``repository``, else pypi."""
    publisher = options.publisher or workspace.config.publish.publisher
    if publisher:
        return [TargetRequest("plugin", publisher)]
    names = options.repositories or ((options.repository,) if options.repository else ())
    if options.repository_url is not None:
        if names:
            from poetflow.errors import PublishError

            raise PublishError("Give --repository or --repository-url, not both.")
        return [TargetRequest("index", None)]
    names = names or workspace.config.publish.default_repositories
    return [TargetRequest("index", name) for name in dict.fromkeys(names)]


def open_target(
    request: TargetRequest,
    workspace: Workspace,
    options: PublishOptions,
    env: Mapping[str, str],
) -> Target:
    """A target of ``request.kind``; bad input (unknown repository, missing credentials, an
    unknown plugin) raises its exit-2 error here, before anything is built or sent."""
    module, _, function = TARGET_KINDS[request.kind].partition(":")
    target: Target = getattr(importlib.import_module(module), function)(
        request, workspace, options, env
    )
    return target
