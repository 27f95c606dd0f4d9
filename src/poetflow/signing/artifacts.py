"""What signing reads and writes beside an artifact: its digest, its bundle, its attestation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = [
    "ATTESTATION_SUFFIX",
    "BUNDLE_SUFFIX",
    "LEGACY_BUNDLE_SUFFIX",
    "attestation_path",
    "bundle_path",
    "find_bundle",
    "hashed",
    "is_distribution",
]

BUNDLE_SUFFIX = ".sigstore.json"
# Older sigstore clients wrote ``<file>.sigstore``; consumers still meet those bundles.
LEGACY_BUNDLE_SUFFIX = ".sigstore"
# The name gh-action-pypi-publish gives its attestations; twine uploads ``<file>.*.attestation``.
ATTESTATION_SUFFIX = ".publish.attestation"


def bundle_path(artifact: Path) -> Path:
    return artifact.with_name(artifact.name + BUNDLE_SUFFIX)


def attestation_path(artifact: Path) -> Path:
    return artifact.with_name(artifact.name + ATTESTATION_SUFFIX)


def find_bundle(artifact: Path) -> Path | None:
    """The bundle beside ``artifact``: ``<file>.sigstore.json``, else the legacy ``.sigstore``."""
    for suffix in (BUNDLE_SUFFIX, LEGACY_BUNDLE_SUFFIX):
        candidate = artifact.with_name(artifact.name + suffix)
        if candidate.is_file():
            return candidate
    return None


def is_distribution(path: Path) -> bool:
    """An sdist or a wheel (which get a PEP 740 attestation besides the bundle)."""
    from poetflow.distributions import parse_distribution_filename

    return parse_distribution_filename(path.name) is not None


def hashed(path: Path) -> Any:
    """The file's SHA-256 as sigstore's prehashed input: big sdists are streamed, not loaded."""
    import hashlib

    from sigstore.hashes import Hashed
    from sigstore_models.common.v1 import HashAlgorithm

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return Hashed(algorithm=HashAlgorithm.SHA2_256, digest=digest.digest())
