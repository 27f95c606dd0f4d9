"""Building packages: sdists and wheels with internal dependencies pinned, dependencies first."""

from __future__ import annotations

from poetflow.build.engine import BuildVerificationError, build_packages
from poetflow.build.results import (
    Artifact,
    ArtifactKind,
    BuilderKind,
    BuildEvent,
    BuildOptions,
    BuildReport,
    BuildStatus,
    PackageBuild,
)

__all__ = [
    "Artifact",
    "ArtifactKind",
    "BuildEvent",
    "BuildOptions",
    "BuildReport",
    "BuildStatus",
    "BuildVerificationError",
    "BuilderKind",
    "PackageBuild",
    "build_packages",
]
