"""Publishing: upload built packages to an index, dependencies first, safely re-runnable."""

from __future__ import annotations

from poetflow.publish.engine import (
    FileResult,
    FileStatus,
    PackageResult,
    PublishEvent,
    PublishOptions,
    PublishReport,
    PublishSession,
    publish_package,
    publish_packages,
)
from poetflow.publish.repositories import Repository, resolve_repository
from poetflow.publish.retry import RetryPolicy

__all__ = [
    "FileResult",
    "FileStatus",
    "PackageResult",
    "PublishEvent",
    "PublishOptions",
    "PublishReport",
    "PublishSession",
    "Repository",
    "RetryPolicy",
    "publish_package",
    "publish_packages",
    "resolve_repository",
]
