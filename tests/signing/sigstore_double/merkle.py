"""An RFC 6962 Merkle tree: root hashes and inclusion proofs (audit paths)."""

from __future__ import annotations

import hashlib

__all__ = ["inclusion_proof", "leaf_hash", "root_hash"]


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two smaller than ``size``."""
    k = 1
    while k * 2 < size:
        k *= 2
    return k


def root_hash(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node(root_hash(leaves[:k]), root_hash(leaves[k:]))


def inclusion_proof(index: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]): sibling hashes from the leaf up to the root."""
    if len(leaves) <= 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return [*inclusion_proof(index, leaves[:k]), root_hash(leaves[k:])]
    return [*inclusion_proof(index - k, leaves[k:]), root_hash(leaves[:k])]
