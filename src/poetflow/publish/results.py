"""What a publish run asks for and reports: options, events, file and package results."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from poetflow.publish.repositories import Repository
from poetflow.publish.retry import RetryPolicy

__all__ = [
    "EventCallback",
    "FileResult",
    "FileStatus",
    "PackageResult",
    "PackageStatus",
    "PublishEvent",
    "PublishOptions",
    "PublishReport",
    "PublishRun",
]

FileStatus = Literal["uploaded", "skipped", "failed", "blocked", "would upload"]
PackageStatus = Literal["published", "skipped", "failed", "blocked", "would publish"]


@dataclass(frozen=True)
class PublishOptions:
    """How to publish. ``repositories`` are the indexes of the run, by name (``repository``
    is the one-index spelling; default: ``[tool.poetflow.publish] repositories`` /
    ``repository``, else pypi); ``repository_url`` an ad-hoc upload URL instead. ``build``
    builds what is missing or stale first; without it ``dist/`` is published as it is.
    ``sign`` (None: ``[tool.poetflow.publish] sign``) signs every file with Sigstore before
    any upload, and the PEP 740 attestations written beside the files go with them."""

    repository: str | None = None
    repository_url: str | None = None
    repositories: tuple[str, ...] = ()
    dry_run: bool = False
    jobs: int = 4
    build: bool = True
    sign: bool | None = None
    timeout: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    env: Mapping[str, str] | None = None
    # A poetflow.publishers plugin name (None: [tool.poetflow.publish] publisher, else upload).
    publisher: str | None = None


@dataclass(frozen=True)
class FileResult:
    """What happened to one distribution file."""

    package: str
    version: str
    filename: str
    path: str
    kind: str
    status: FileStatus
    sha256: str
    size: int
    duration: float
    url: str
    detail: str = ""
    attempts: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "version": self.version,
            "file": self.filename,
            "path": self.path,
            "kind": self.kind,
            "status": self.status,
            "sha256": self.sha256,
            "size": self.size,
            "duration": round(self.duration, 3),
            "url": self.url,
            "detail": self.detail,
            "attempts": self.attempts,
        }


@dataclass(frozen=True)
class PackageResult:
    """What happened to one package: its files and one overall status."""

    name: str
    version: str
    status: PackageStatus
    files: tuple[FileResult, ...]
    detail: str = ""
    duration: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "status": self.status,
            "detail": self.detail,
            "duration": round(self.duration, 3),
            "files": [item.to_dict() for item in self.files],
        }


@dataclass(frozen=True)
class PublishReport:
    """The outcome of one publish run, in publish order."""

    repository: Repository
    packages: tuple[PackageResult, ...]
    dry_run: bool
    duration: float
    credentials_source: str
    # The files this run signed before uploading (publish --sign), by name.
    signed: tuple[str, ...] = ()

    @property
    def files(self) -> tuple[FileResult, ...]:
        return tuple(item for package in self.packages for item in package.files)

    @property
    def ok(self) -> bool:
        return all(package.status not in ("failed", "blocked") for package in self.packages)

    def count(self, status: FileStatus) -> int:
        return sum(1 for item in self.files if item.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "repository": {
                "name": self.repository.name,
                "url": self.repository.url,
                "index_url": self.repository.index_url,
            },
            "credentials": self.credentials_source,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "duration": round(self.duration, 3),
            "signed": list(self.signed),
            "packages": [package.to_dict() for package in self.packages],
        }


@dataclass(frozen=True)
class PublishRun:
    """A publish run to one or more targets: one report per target, in the order asked
    for, and the packages it published nowhere (``withheld``: name -> why)."""

    reports: tuple[PublishReport, ...]
    withheld: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(report.ok for report in self.reports)

    @property
    def dry_run(self) -> bool:
        return any(report.dry_run for report in self.reports)

    def count(self, status: FileStatus) -> int:
        return sum(report.count(status) for report in self.reports)

    def failed(self) -> list[str]:
        """``NAME on INDEX`` for every package that failed or was blocked somewhere."""
        return [
            f"{package.name} on {report.repository.name}"
            for report in self.reports
            for package in report.packages
            if package.status in ("failed", "blocked")
        ]

    def to_dict(self) -> dict[str, Any]:
        """One target: its report as before (plus ``withheld``); several: one per target."""
        withheld = dict(self.withheld)
        if len(self.reports) == 1:
            return {**self.reports[0].to_dict(), "withheld": withheld}
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "targets": [report.to_dict() for report in self.reports],
            "withheld": withheld,
        }


@dataclass(frozen=True)
class PublishEvent:
    """Progress for reporters: a package started, a file finished, a package finished."""

    kind: Literal["package-started", "file-finished", "package-finished"]
    package: str
    file: FileResult | None = None
    result: PackageResult | None = None
    # The target's name (an index's, or a publisher plugin's), for runs with several.
    target: str = ""


EventCallback = Callable[[PublishEvent], None]
