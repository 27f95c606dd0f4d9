"""Versions from conventional commits: plan the next version of each package, then write it."""

from __future__ import annotations

from poetflow.versioning.plan import (
    BumpRequest,
    ConstraintUpdate,
    PackageVersion,
    VersionPlan,
    plan_set_version,
    plan_versions,
)
from poetflow.versioning.release import (
    VersionResult,
    apply_plan,
    commit_release,
    files_to_write,
    push_release,
    tag_release,
    version_edits,
)

__all__ = [
    "BumpRequest",
    "ConstraintUpdate",
    "PackageVersion",
    "VersionPlan",
    "VersionResult",
    "apply_plan",
    "commit_release",
    "files_to_write",
    "plan_set_version",
    "plan_versions",
    "push_release",
    "tag_release",
    "version_edits",
]
