"""A certificate transparency log key issuing RFC 6962 SCTs for precertificates."""

from __future__ import annotations

import hashlib
import struct
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["CtLog", "key_id"]


def key_id(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """RFC 6962 log/key ID: SHA-256 of the DER SubjectPublicKeyInfo."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).digest()


def _u24(length: int) -> bytes:
    return struct.pack("!I", length)[1:]


class CtLog:
    """Signs SCTs; ``sct_list`` returns a TLS-encoded SignedCertificateTimestampList."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.log_id = key_id(self.key.public_key())

    def sct_list(self, tbs_precertificate: bytes, issuer_key: ec.EllipticCurvePublicKey) -> bytes:
        timestamp = int(time.time() * 1000)
        extensions = b""
        # digitally-signed struct of RFC 6962 section 3.2, entry type precert_entry (1).
        signed = (
            struct.pack("!BBQH", 0, 0, timestamp, 1)
            + key_id(issuer_key)
            + _u24(len(tbs_precertificate))
            + tbs_precertificate
            + struct.pack("!H", len(extensions))
            + extensions
        )
        signature = self.key.sign(signed, ec.ECDSA(hashes.SHA256()))
        sct = (
            struct.pack("!B", 0)
            + self.log_id
            + struct.pack("!Q", timestamp)
            + struct.pack("!H", len(extensions))
            + extensions
            # hash sha256 (4), signature ecdsa (3)
            + struct.pack("!BBH", 4, 3, len(signature))
            + signature
        )
        entry = struct.pack("!H", len(sct)) + sct
        return struct.pack("!H", len(entry)) + entry
