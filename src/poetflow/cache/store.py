"""The local task cache under ``.poetflow/cache/``: action entries and blobs, bounded in size.

The layout mirrors the remote protocol: ``ac/<key>`` holds an ActionResult, ``cas/<sha256>``
a blob. Every file is written to a temporary name and renamed, so a run killed midway
leaves either a whole entry or none; an entry whose blobs were evicted is a miss. Reading
an entry touches it, and :meth:`LocalStore.trim` removes the least recently used files
until the store is under its bound.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import time
from pathlib import Path

from poetflow.cache.protocol import Digest

__all__ = ["LocalStore", "blob_digest"]

# Temporary files older than this are leftovers of a killed run.
_STALE_TEMPORARY_SECONDS = 3600.0


def blob_digest(data: bytes) -> Digest:
    return Digest(hashlib.sha256(data).hexdigest(), len(data))


class LocalStore:
    """``directory/ac`` and ``directory/cas``; safe for concurrent threads and processes."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes

    def _path(self, kind: str, key: str) -> Path:
        return self.directory / kind / key[:2] / key

    def _read(self, path: Path) -> bytes | None:
        try:
            data = path.read_bytes()
        except OSError:
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # least recently *used* goes first
        return data

    def _write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get_action(self, key: str) -> bytes | None:
        return self._read(self._path("ac", key))

    def put_action(self, key: str, data: bytes) -> None:
        self._write(self._path("ac", key), data)

    def get_blob(self, digest: Digest) -> bytes | None:
        data = self._read(self._path("cas", digest.hash))
        if data is None or hashlib.sha256(data).hexdigest() != digest.hash:
            return None  # missing, or damaged on disk: never hand out wrong bytes
        return data

    def has_blob(self, digest: Digest) -> bool:
        path = self._path("cas", digest.hash)
        try:
            return path.stat().st_size == digest.size
        except OSError:
            return False

    def put_blob(self, data: bytes) -> Digest:
        digest = blob_digest(data)
        if not self.has_blob(digest):
            self._write(self._path("cas", digest.hash), data)
        return digest

    def copy_blob(self, digest: Digest, target: Path) -> bool:
        """Copy a blob to ``target`` (through a temporary file beside it); False if absent."""
        data = self.get_blob(digest)
        if data is None:
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return True

    def size(self) -> int:
        return sum(size for _path, size, _used in self._files())

    def _files(self) -> list[tuple[Path, int, float]]:
        found = []
        for kind in ("ac", "cas"):
            base = self.directory / kind
            if not base.is_dir():
                continue
            for current, _dirs, names in os.walk(base):
                for name in names:
                    path = Path(current, name)
                    try:
                        stat = path.stat()
                    except OSError:
                        continue
                    found.append((path, stat.st_size, stat.st_mtime))
        return found

    def trim(self) -> int:
        """Drop the least recently used files until the store fits; returns bytes freed."""
        now = time.time()
        files = []
        for path, size, used in self._files():
            if path.name.startswith(".tmp-") or path.name.startswith("."):
                if now - used > _STALE_TEMPORARY_SECONDS:
                    path.unlink(missing_ok=True)
                continue
            files.append((path, size, used))
        total = sum(size for _path, size, _used in files)
        freed = 0
        for path, size, _used in sorted(files, key=lambda item: item[2]):
            if total - freed <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            freed += size
        return freed

    def clear(self) -> None:
        for kind in ("ac", "cas"):
            shutil.rmtree(self.directory / kind, ignore_errors=True)
