"""What a build run asks for and reports: options, events, artifacts, package results."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from poetflow.build.template import WorkerTemplate
    from poetflow.cache.settings import CacheSettings

__all__ = [
    "Artifact",
    "ArtifactKind",
    "BuildEvent",
    "BuildOptions",
    "BuildReport",
    "BuildStatus",
    "BuilderKind",
    "PackageBuild",
]

ArtifactKind = Literal["sdist", "wheel"]
# cached: not built here, the artifacts came from the task cache (another job built them).
BuildStatus = Literal["built", "cached", "up to date", "failed", "blocked", "would build"]
BuilderKind = Literal["core", "poetry"]


@dataclass(frozen=True)
class BuildOptions:
    """How to build.

    ``jobs`` None means one per CPU; ``builder`` picks poetry-core in-process (``core``) or
    the ``poetry build`` command line (``poetry``) for poetry-core packages; packages with
    another build backend always go through their PEP 517 backend. ``source_date_epoch``
    overrides both the ``SOURCE_DATE_EPOCH`` variable and the last-commit default.
    ``cache`` (None: none) is asked for the artifacts before a package is built.
    ``template``, started by the caller before it read the workspace, forks the worker
    processes; the build closes it.
    """

    jobs: int | None = None
    force: bool = False
    dry_run: bool = False
    builder: BuilderKind = "core"
    source_date_epoch: int | None = None
    timeout: float = 900.0
    cache: CacheSettings | None = None
    template: WorkerTemplate | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Artifact:
    """One built file in a package's ``dist/``."""

    path: Path
    kind: ArtifactKind
    sha256: str
    size: int

    @property
    def filename(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class PackageBuild:
    """The outcome for one package.

    ``reason`` says why it was (or would be) built, or why not; ``error`` is set for
    ``failed`` and ``blocked``; ``backend`` names what built it (``poetry-core``,
    ``poetry``, or the PEP 517 backend).
    """

    name: str
    version: str
    status: BuildStatus
    artifacts: tuple[Artifact, ...] = ()
    duration: float = 0.0
    error: str | None = None
    reason: str = ""
    backend: str = ""

    @property
    def ok(self) -> bool:
        return self.status not in ("failed", "blocked")

    @property
    def size(self) -> int:
        return sum(artifact.size for artifact in self.artifacts)


@dataclass(frozen=True)
class BuildEvent:
    """Progress: ``planned`` once per run (``total`` packages), ``started`` / ``finished``
    per package (``result`` set when finished)."""

    kind: Literal["planned", "started", "finished"]
    package: str = ""
    total: int = 0
    result: PackageBuild | None = None


@dataclass(frozen=True)
class BuildReport:
    """Every selected package, dependencies first."""

    packages: tuple[PackageBuild, ...]
    duration: float
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return all(package.ok for package in self.packages)

    @property
    def failed(self) -> tuple[PackageBuild, ...]:
        return tuple(package for package in self.packages if package.status == "failed")

    def get(self, name: str) -> PackageBuild:
        for package in self.packages:
            if package.name == name:
                return package
        raise KeyError(name)
