"""The local store: bounded (least recently used first), never hands out damaged bytes."""

from __future__ import annotations

import os
import time
from pathlib import Path

from poetflow.cache.protocol import encode_action_result
from poetflow.cache.store import LocalStore, blob_digest
from poetflow.cache.task import TaskCache


def _age(path: Path, seconds: float) -> None:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))


def test_trim_evicts_least_recently_used_until_under_the_bound(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, max_bytes=2500)
    blobs = [bytes([n]) * 1000 for n in range(4)]
    digests = [store.put_blob(blob) for blob in blobs]
    for age, digest in zip((400, 300, 200, 100), digests, strict=True):
        _age(store._path("cas", digest.hash), age)
    # Reading the oldest makes it the most recently used.
    assert store.get_blob(digests[0]) == blobs[0]
    store.trim()
    assert store.size() <= 2500
    kept = [store.has_blob(digest) for digest in digests]
    assert kept == [True, False, False, True]


def test_a_damaged_blob_is_a_miss_and_an_entry_without_its_blobs_too(tmp_path: Path) -> None:
    cache = TaskCache(LocalStore(tmp_path, 1 << 20), remote=None)
    cache.store("k" * 64, {"result.json": b"{}", "junit/0.xml": b"<testsuites/>"})
    entry = cache.lookup("k" * 64)
    assert entry is not None
    assert cache.read(entry, "result.json") == b"{}"
    blob = cache.local._path("cas", entry.outputs["junit/0.xml"].hash)
    blob.write_bytes(b"<tampered/>")
    assert cache.read(entry, "junit/0.xml") is None
    blob.unlink()
    assert cache.lookup("k" * 64) is None


def test_leftovers_of_a_killed_run_are_cleaned_and_never_read(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, 1 << 20)
    digest = blob_digest(b"content")
    folder = tmp_path / "cas" / digest.hash[:2]
    folder.mkdir(parents=True)
    leftover = folder / ".tmp-abandoned"
    leftover.write_bytes(b"half a blob")
    _age(leftover, 7200)
    assert not store.has_blob(digest)
    store.put_action("a" * 64, encode_action_result({"x": digest}, worker="test"))
    store.trim()
    assert not leftover.exists()
