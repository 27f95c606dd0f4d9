"""The double's keys as sigstore clients read them: trusted root, signing config, both in one."""

from __future__ import annotations

import base64
import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

__all__ = ["client_trust_config"]


def _der_key(key: ec.EllipticCurvePublicKey) -> str:
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def _log(url: str, key: ec.EllipticCurvePublicKey, log_id: bytes, start: str) -> dict[str, Any]:
    return {
        "baseUrl": url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
            "rawBytes": _der_key(key),
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "validFor": {"start": start},
        },
        "logId": {"keyId": base64.b64encode(log_id).decode()},
    }


def _service(url: str, start: str) -> dict[str, Any]:
    return {
        "url": url,
        "majorApiVersion": 1,
        "validFor": {"start": start},
        "operator": "poetflow.test",
    }


def client_trust_config(
    *,
    ca_url: str,
    root: x509.Certificate,
    tlog_url: str,
    tlog_key: ec.EllipticCurvePublicKey,
    tlog_id: bytes,
    ct_url: str,
    ct_key: ec.EllipticCurvePublicKey,
    ct_id: bytes,
    oidc_url: str,
) -> dict[str, Any]:
    start = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    trusted_root = {
        "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
        "tlogs": [_log(tlog_url, tlog_key, tlog_id, start)],
        "certificateAuthorities": [
            {
                "subject": {"organization": "poetflow.test", "commonName": "sigstore-double-root"},
                "uri": ca_url,
                "certChain": {
                    "certificates": [
                        {
                            "rawBytes": base64.b64encode(
                                root.public_bytes(serialization.Encoding.DER)
                            ).decode()
                        }
                    ]
                },
                "validFor": {"start": start},
            }
        ],
        "ctlogs": [_log(ct_url, ct_key, ct_id, start)],
        "timestampAuthorities": [],
    }
    signing_config = {
        "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
        "caUrls": [_service(ca_url, start)],
        "oidcUrls": [_service(oidc_url, start)],
        "rekorTlogUrls": [_service(tlog_url, start)],
        "tsaUrls": [],
        "rekorTlogConfig": {"selector": "ANY"},
        "tsaConfig": {"selector": "ANY"},
    }
    return {
        "mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json",
        "trustedRoot": trusted_root,
        "signingConfig": signing_config,
    }
