"""A Rekor-like transparency log: ``POST /api/v1/log/entries`` for hashedrekord and dsse.

Each accepted entry is canonicalised, appended to an RFC 6962 Merkle tree, and answered the
way Rekor v1 does: the body, integrated time, log ID and index, a signed entry timestamp
(SET), and an inclusion proof whose checkpoint is a signed note over the new tree head.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from .ctlog import key_id
from .merkle import inclusion_proof, leaf_hash, root_hash
from .service import Reply, Request, Service, json_reply

__all__ = ["TransparencyLog"]


def _canonical(value: Any) -> bytes:
    # RFC 8785 for the ASCII strings and integers Rekor bodies hold.
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


class _Rejected(Exception):
    pass


def _certificate_key(verifier_b64: str) -> ec.EllipticCurvePublicKey:
    certificate = x509.load_pem_x509_certificate(base64.b64decode(verifier_b64))
    key = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise _Rejected("only ECDSA verifiers are supported")
    return key


def _pae(payload_type: str, payload: bytes) -> bytes:
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)


class TransparencyLog:
    """The log; ``entries`` holds every canonical body in log order."""

    origin = "rekor.poetflow.test - 1"

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.log_id = key_id(self.key.public_key())
        self.entries: list[bytes] = []
        self._lock = threading.Lock()
        self._service = Service(self._handle)
        self.url = self._service.url

    def stop(self) -> None:
        self._service.stop()

    def _body(self, proposed: dict[str, Any]) -> dict[str, Any]:
        kind, version = proposed.get("kind"), proposed.get("apiVersion")
        spec = proposed.get("spec", {})
        if kind == "hashedrekord" and version == "0.0.1":
            digest = bytes.fromhex(spec["data"]["hash"]["value"])
            signature = base64.b64decode(spec["signature"]["content"])
            key = _certificate_key(spec["signature"]["publicKey"]["content"])
            try:
                key.verify(signature, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
            except InvalidSignature:
                raise _Rejected("signature does not verify against the digest") from None
            return {"apiVersion": version, "kind": kind, "spec": spec}
        if kind == "dsse" and version == "0.0.1":
            content = spec["proposedContent"]
            envelope_json = content["envelope"]
            envelope = json.loads(envelope_json)
            payload = base64.b64decode(envelope["payload"])
            verifier = content["verifiers"][0]
            key = _certificate_key(verifier)
            signatures = []
            for item in envelope["signatures"]:
                sig = base64.b64decode(item["sig"])
                try:
                    key.verify(
                        sig, _pae(envelope["payloadType"], payload), ec.ECDSA(hashes.SHA256())
                    )
                except InvalidSignature:
                    raise _Rejected("DSSE signature does not verify") from None
                signatures.append({"signature": item["sig"], "verifier": verifier})
            return {
                "apiVersion": version,
                "kind": kind,
                "spec": {
                    "envelopeHash": {
                        "algorithm": "sha256",
                        "value": hashlib.sha256(envelope_json.encode()).hexdigest(),
                    },
                    "payloadHash": {
                        "algorithm": "sha256",
                        "value": hashlib.sha256(payload).hexdigest(),
                    },
                    "signatures": signatures,
                },
            }
        raise _Rejected(f"unsupported entry kind {kind}/{version}")

    def _sign(self, data: bytes) -> bytes:
        return self.key.sign(data, ec.ECDSA(hashes.SHA256()))

    def _checkpoint(self, size: int, root: bytes) -> str:
        encoded_root = base64.b64encode(root).decode()
        note = f"{self.origin}\n{size}\n{encoded_root}\nTimestamp: {time.time_ns()}\n"
        signature = base64.b64encode(self.log_id[:4] + self._sign(note.encode())).decode()
        return f"{note}\n\u2014 {self.origin.split()[0]} {signature}\n"

    def append(self, proposed: dict[str, Any]) -> dict[str, Any]:
        body = _canonical(self._body(proposed))
        with self._lock:
            index = len(self.entries)
            self.entries.append(body)
            leaves = [leaf_hash(entry) for entry in self.entries]
        size = index + 1
        root = root_hash(leaves[:size])
        integrated = int(time.time())
        encoded = base64.b64encode(body).decode()
        set_payload = {
            "body": encoded,
            "integratedTime": integrated,
            "logID": self.log_id.hex(),
            "logIndex": index,
        }
        entry = {
            "body": encoded,
            "integratedTime": integrated,
            "logID": self.log_id.hex(),
            "logIndex": index,
            "verification": {
                "signedEntryTimestamp": base64.b64encode(
                    self._sign(_canonical(set_payload))
                ).decode(),
                "inclusionProof": {
                    "logIndex": index,
                    "treeSize": size,
                    "rootHash": root.hex(),
                    "hashes": [h.hex() for h in inclusion_proof(index, leaves[:size])],
                    "checkpoint": self._checkpoint(size, root),
                },
            },
        }
        return {leaves[index].hex(): entry}

    def _handle(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != "/api/v1/log/entries":
            return json_reply(404, {"code": 404, "message": "not found"})
        try:
            return json_reply(201, self.append(request.json()))
        except _Rejected as rejected:
            return json_reply(400, {"code": 400, "message": str(rejected)})
        except (KeyError, ValueError, TypeError) as exc:
            return json_reply(400, {"code": 400, "message": f"malformed entry: {exc}"})
