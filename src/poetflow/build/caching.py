"""Built artifacts in the task cache, so a job reuses the wheels another job built.

The key is the build fingerprint (every input file, the builder, tool versions, the pin
policy and the internal dependencies' versions) plus the package's version and the
SOURCE_DATE_EPOCH the build would stamp: builds are reproducible, so an artifact from
the cache is byte for byte what building here would make. Restored files are checked
against their recorded sha256 and recorded in ``dist/`` like a build of this machine's,
so the next ``build`` finds them up to date.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from poetflow.build.fingerprint import StoredBuild, file_sha256, save_stored_build
from poetflow.build.results import Artifact
from poetflow.cache.keys import digest_parts
from poetflow.cache.settings import CacheSettings
from poetflow.cache.task import TaskCache, open_cache
from poetflow.workspace import Package

__all__ = ["BuildCache"]

_RECORD = "build.json"
_SCHEMA = "poetflow-build/1"


class BuildCache:
    """The cache as the build engine uses it."""

    def __init__(self, cache: TaskCache) -> None:
        self.cache = cache

    @classmethod
    def open(cls, root: Path, settings: CacheSettings | None) -> BuildCache | None:
        cache = open_cache(root, settings)
        return None if cache is None else cls(cache)

    @staticmethod
    def key(package: Package, fingerprint: str, epoch: int | None) -> str:
        return digest_parts([_SCHEMA, package.name, package.version or "", fingerprint, str(epoch)])

    def restore(self, package: Package, key: str, dist: Path) -> tuple[Artifact, ...] | None:
        """The cached artifacts of ``key`` placed in ``dist`` and recorded, or None."""
        entry = self.cache.lookup(key)
        if entry is None:
            return None
        raw = self.cache.read(entry, _RECORD)
        try:
            record: dict[str, Any] = json.loads(raw or b"")
            files = [(str(i["file"]), i["kind"], str(i["sha256"])) for i in record["artifacts"]]
        except (ValueError, KeyError, TypeError):
            return None
        if not files or any(kind not in ("sdist", "wheel") for _f, kind, _s in files):
            return None
        dist.mkdir(parents=True, exist_ok=True)
        artifacts = []
        for name, kind, sha256 in files:
            if Path(name).name != name:  # a record naming another folder is not ours
                return None
            target = dist / name
            if not self.cache.restore(entry, f"dist/{name}", target):
                return None
            if file_sha256(target) != sha256:
                target.unlink(missing_ok=True)
                return None
            artifacts.append(Artifact(target, kind, sha256, target.stat().st_size))
        return tuple(artifacts)

    def record(self, key: str, artifacts: tuple[Artifact, ...]) -> None:
        outputs = {f"dist/{a.filename}": a.path.read_bytes() for a in artifacts}
        listing = [{"file": a.filename, "kind": a.kind, "sha256": a.sha256} for a in artifacts]
        outputs[_RECORD] = json.dumps({"artifacts": listing}).encode()
        self.cache.store(key, outputs)

    @staticmethod
    def save(dist: Path, fingerprint: str, version: str, artifacts: tuple[Artifact, ...]) -> None:
        save_stored_build(dist, StoredBuild(fingerprint, version, artifacts))

    def close(self) -> None:
        self.cache.close()
