"""What a code-host release is made of and what publishing one did, for every host."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

__all__ = [
    "HostProvider",
    "ReleaseFile",
    "ReleaseResult",
    "ReleaseSpec",
    "ReleaseStatus",
    "ReviewHost",
    "ReviewRequest",
]

ReleaseStatus = Literal["created", "updated", "up to date", "would create", "would update"]


@dataclass(frozen=True)
class ReleaseFile:
    """A file to attach: which package and version it belongs to, and its digest."""

    path: Path
    package: str
    version: str
    sha256: str

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class ReleaseSpec:
    """One release as it should be: named after its tag, the changelog as its body.

    ``commit`` is what the tag points at: where a host that does not have the tag yet
    would make it (None: leave it to the host's default branch).
    """

    tag: str
    name: str
    body: str
    files: tuple[ReleaseFile, ...] = ()
    draft: bool = False
    prerelease: bool = False
    commit: str | None = None


@dataclass(frozen=True)
class ReleaseResult:
    """What publishing one release did; ``uploaded`` and ``kept`` are file names (kept:
    already there with the same sha256)."""

    tag: str
    status: ReleaseStatus
    url: str | None = None
    uploaded: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "tag": self.tag,
            "status": self.status,
            "url": self.url,
            "uploaded": list(self.uploaded),
            "kept": list(self.kept),
        }


class HostProvider(Protocol):
    """A code host's releases: find the release of ``spec.tag`` or create it, bring its
    name, body and files up to date. A dry run only reads."""

    name: str

    def publish_release(self, spec: ReleaseSpec, *, dry_run: bool) -> ReleaseResult: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ReviewRequest:
    """A GitHub pull request or a GitLab merge request (``number``: its iid on GitLab)."""

    number: int
    url: str
    title: str
    body: str
    state: str = "open"


class ReviewHost(Protocol):
    """A code host's pull / merge requests from one branch: found, opened, updated, closed
    with a comment. ``poetflow release-pr`` keeps one of them per branch."""

    name: str

    def find_review(self, branch: str) -> ReviewRequest | None: ...

    def open_review(self, branch: str, base: str, title: str, body: str) -> ReviewRequest: ...

    def update_review(self, review: ReviewRequest, title: str, body: str) -> ReviewRequest: ...

    def close_review(self, review: ReviewRequest, comment: str) -> ReviewRequest: ...

    def close(self) -> None: ...
