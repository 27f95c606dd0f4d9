"""Up-to-date checks: a content hash of a package's build inputs, stored in its ``dist/``."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poetflow.build.results import Artifact, ArtifactKind
from poetflow.build.sources import SourceFile
from poetflow.files import atomic_write_text

__all__ = [
    "FINGERPRINT_FILE",
    "StoredBuild",
    "artifacts_intact",
    "compute_fingerprint",
    "file_sha256",
    "load_stored_build",
    "remove_stored_build",
    "save_stored_build",
]

FINGERPRINT_FILE = ".poetflow-build.json"
# Bump when the meaning of the hash changes, so older records never count as up to date.
_SCHEMA = 1


@dataclass(frozen=True)
class StoredBuild:
    """What the last successful build of a package recorded."""

    fingerprint: str
    version: str
    artifacts: tuple[Artifact, ...]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def compute_fingerprint(files: Iterable[SourceFile], settings: Sequence[str]) -> str:
    """Hash of every input file (path, mode, bytes; pyproject.toml included) and
    ``settings`` (builder, tool versions, constraint policy, internal dependency versions,
    an explicit SOURCE_DATE_EPOCH)."""
    digest = hashlib.sha256()
    digest.update(f"poetflow-build/{_SCHEMA}\0".encode())
    for setting in settings:
        digest.update(setting.encode() + b"\0")
    for source in files:
        executable = os.access(source.path, os.X_OK)
        digest.update(f"\0{source.relpath}\0{int(executable)}\0".encode())
        digest.update(file_sha256(source.path).encode())
    return digest.hexdigest()


def load_stored_build(dist: Path) -> StoredBuild | None:
    """The record in ``dist/``, or None when missing or unreadable (then: rebuild)."""
    try:
        data: Any = json.loads((dist / FINGERPRINT_FILE).read_text(encoding="utf-8"))
        artifacts = tuple(
            Artifact(
                dist / str(item["file"]),
                _kind(item["kind"]),
                str(item["sha256"]),
                int(item["size"]),
            )
            for item in data["artifacts"]
        )
        return StoredBuild(str(data["fingerprint"]), str(data["version"]), artifacts)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _kind(value: object) -> ArtifactKind:
    if value == "sdist":
        return "sdist"
    if value == "wheel":
        return "wheel"
    raise ValueError(value)


def save_stored_build(dist: Path, stored: StoredBuild) -> None:
    """Write the record atomically, after the artifacts are in place."""
    payload = {
        "schema": _SCHEMA,
        "fingerprint": stored.fingerprint,
        "version": stored.version,
        "artifacts": [
            {"file": a.path.name, "kind": a.kind, "sha256": a.sha256, "size": a.size}
            for a in stored.artifacts
        ],
    }
    atomic_write_text(dist / FINGERPRINT_FILE, json.dumps(payload, indent=2) + "\n")


def remove_stored_build(dist: Path) -> None:
    (dist / FINGERPRINT_FILE).unlink(missing_ok=True)


def artifacts_intact(stored: StoredBuild) -> bool:
    """Every recorded artifact is still there with the same size and hash."""
    for artifact in stored.artifacts:
        try:
            if artifact.path.stat().st_size != artifact.size:
                return False
        except OSError:
            return False
        if file_sha256(artifact.path) != artifact.sha256:
            return False
    return bool(stored.artifacts)
