"""The task cache the engines use: look a key up (local, then remote), store a result."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from poetflow import __version__
from poetflow.cache.protocol import (
    Digest,
    ProtocolError,
    decode_action_result,
    encode_action_result,
)
from poetflow.cache.remote import RemoteCache
from poetflow.cache.settings import CacheSettings
from poetflow.cache.store import LocalStore

__all__ = ["CacheEntry", "TaskCache", "open_cache"]

logger = logging.getLogger("poetflow.cache")

_WORKER = f"poetflow {__version__}"


@dataclass(frozen=True)
class CacheEntry:
    """A stored result: its outputs (path -> blob, all present locally now) and where
    it was found."""

    key: str
    outputs: Mapping[str, Digest]
    origin: Literal["local", "remote"]


class TaskCache:
    """A local store and, optionally, a remote cache; safe to share between threads."""

    def __init__(self, local: LocalStore, remote: RemoteCache | None) -> None:
        self.local = local
        self.remote = remote

    def lookup(self, key: str) -> CacheEntry | None:
        """The stored result for ``key`` with every blob available locally, or None."""
        entry = self._local_entry(key)
        if entry is not None:
            return entry
        if self.remote is None:
            return None
        data = self.remote.get_action(key)
        if data is None:
            return None
        try:
            outputs, exit_code = decode_action_result(data)
        except ProtocolError:
            logger.debug("remote cache entry %s is not an ActionResult; ignored", key)
            return None
        if exit_code != 0:
            return None
        for digest in outputs.values():
            if self.local.has_blob(digest):
                continue
            blob = self.remote.get_blob(digest)
            if blob is None:
                return None  # an incomplete entry is a miss
            self.local.put_blob(blob)
        self.local.put_action(key, data)
        return CacheEntry(key, outputs, "remote")

    def _local_entry(self, key: str) -> CacheEntry | None:
        data = self.local.get_action(key)
        if data is None:
            return None
        try:
            outputs, exit_code = decode_action_result(data)
        except ProtocolError:
            return None
        if exit_code != 0 or not all(self.local.has_blob(d) for d in outputs.values()):
            return None
        return CacheEntry(key, outputs, "local")

    def read(self, entry: CacheEntry, path: str) -> bytes | None:
        """The content of one output of ``entry``."""
        digest = entry.outputs.get(path)
        return None if digest is None else self.local.get_blob(digest)

    def restore(self, entry: CacheEntry, path: str, target: Path) -> bool:
        """Copy one output to ``target``; False when it is gone (evicted meanwhile)."""
        digest = entry.outputs.get(path)
        return digest is not None and self.local.copy_blob(digest, target)

    def store(self, key: str, outputs: Mapping[str, bytes]) -> None:
        """Keep ``outputs`` under ``key`` locally, and remotely unless read-only.

        Blobs go first and the entry last, so a reader never sees an entry whose blobs
        are not there yet.
        """
        digests = {path: self.local.put_blob(data) for path, data in outputs.items()}
        entry = encode_action_result(digests, worker=_WORKER)
        self.local.put_action(key, entry)
        if self.remote is None or self.remote.read_only:
            return
        for path, data in outputs.items():
            if not self.remote.put_blob(digests[path], data):
                return
        self.remote.put_action(key, entry)

    def close(self) -> None:
        """End of the run: bound the local store, close connections."""
        try:
            self.local.trim()
        except OSError as exc:  # a full or read-only disk: the next run trims again
            logger.debug("could not trim the local cache: %s", exc)
        if self.remote is not None:
            self.remote.close()


def open_cache(root: Path, settings: CacheSettings | None) -> TaskCache | None:
    """The task cache of the workspace at ``root`` as ``settings`` say (None: no cache)."""
    if settings is None or not settings.enabled:
        return None
    from poetflow.files import private_directory
    from poetflow.masking import secret_from_environment

    directory = private_directory(root / ".poetflow") / "cache"
    local = LocalStore(directory, int(settings.max_size_mb * 1024 * 1024))
    remote = None
    if settings.url:
        token = secret_from_environment(os.environ, "POETFLOW_CACHE_TOKEN")
        remote = RemoteCache(
            settings.url, token=token, timeout=settings.timeout, read_only=settings.read_only
        )
    return TaskCache(local, remote)
