"""Verifying artifacts against their Sigstore bundles and PEP 740 attestations.

A bad signature is a result (:class:`~poetflow.signing.results.VerifyResult`), not an
exception: the caller decides the exit code. sigstore is imported inside the functions.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from poetflow.errors import SigningSetupError
from poetflow.signing.artifacts import BUNDLE_SUFFIX, attestation_path, find_bundle, hashed
from poetflow.signing.options import SigningOptions
from poetflow.signing.results import VerifyResult
from poetflow.signing.trust import certificate_identity, load_trust, quiet_sigstore

__all__ = ["verify_artifacts"]


def _explain(message: str, identity: str, issuer: str, actual: tuple[str, str | None]) -> str:
    signer, signer_issuer = actual
    if "OIDCIssuer" in message:
        return (
            f"wrong issuer: the certificate was issued for an identity from {signer_issuer}, "
            f"not from the expected issuer {issuer}"
        )
    if "SANs do not match" in message:
        return f"wrong identity: it was signed by {signer or 'an unnamed identity'}, not {identity}"
    if "digest mismatch" in message or "invalid for input" in message:
        return "the artifact does not match its signature: it was modified after signing"
    if "inconsistent with other materials" in message:
        return "the transparency log entry does not match this artifact or signature"
    return message.rstrip(".")


def _verify_attestation(
    verifier: Any,
    policy: Any,
    artifact: Path,
    attestation_file: Path,
    expected: tuple[str, str],
) -> str | None:
    """Check a PEP 740 attestation against the same trust root; None when it holds."""
    from pypi_attestations import Attestation, AttestationError, Distribution
    from sigstore.errors import Error as SigstoreError

    attestation: Any = None
    try:
        attestation = Attestation.model_validate_json(attestation_file.read_bytes())
        _type, payload = verifier.verify_dsse(attestation.to_bundle(), policy)
        statement = json.loads(payload)
        subjects = statement.get("subject", [])
        dist = Distribution.from_file(artifact)
        if len(subjects) != 1 or subjects[0].get("name") != dist.name:
            return f"attestation {attestation_file.name} is for another file"
        if subjects[0].get("digest", {}).get("sha256") != dist.digest:
            return (
                f"attestation {attestation_file.name} does not match the artifact: "
                "it was modified after signing"
            )
    except (SigstoreError, AttestationError, ValueError, OSError) as exc:
        actual: tuple[str, str | None] = ("", None)
        if attestation is not None:
            with contextlib.suppress(Exception):
                actual = certificate_identity(attestation.to_bundle().signing_certificate)
        reason = _explain(str(exc), expected[0], expected[1], actual)
        return f"attestation {attestation_file.name}: {reason}"
    return None


def verify_artifacts(
    paths: Sequence[Path], identity: str, issuer: str, options: SigningOptions
) -> tuple[VerifyResult, ...]:
    """Verify each file against the bundle beside it (and its attestation, if any).

    ``identity`` is the expected certificate SAN (a workflow URI or an e-mail address),
    ``issuer`` the expected OIDC issuer URL. Verification of the public-good or staging
    instance works without network with ``options.offline``; a private instance's trust
    configuration is a local file, so it always does. A bad signature is a result, not an
    exception: the caller decides the exit code.
    """
    if not identity or not issuer:
        raise SigningSetupError(
            "Verification needs the expected signer identity and OIDC issuer.",
            hint="Pass --identity and --issuer (or set identity and issuer in "
            "[tool.poetflow.signing]).",
        )
    trusted_root = load_trust(options, for_signing=False)

    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle
    from sigstore.verify import Verifier
    from sigstore.verify.policy import Identity

    with quiet_sigstore():
        verifier = Verifier(trusted_root=trusted_root)
    policy = Identity(identity=identity, issuer=issuer)
    results: list[VerifyResult] = []
    for path in paths:
        bundle_file = find_bundle(path)
        if not path.is_file():
            results.append(
                VerifyResult(path, bundle_file, "missing", "the artifact does not exist")
            )
            continue
        if bundle_file is None:
            results.append(
                VerifyResult(
                    path, None, "missing", f"no {path.name}{BUNDLE_SUFFIX} beside it: sign it first"
                )
            )
            continue
        actual: tuple[str, str | None] = ("", None)
        try:
            bundle = Bundle.from_json(bundle_file.read_bytes())
            actual = certificate_identity(bundle.signing_certificate)
            with quiet_sigstore():
                verifier.verify_artifact(hashed(path), bundle, policy)
        except (SigstoreError, ValueError, OSError) as exc:
            results.append(
                VerifyResult(
                    path,
                    bundle_file,
                    "failed",
                    _explain(str(exc), identity, issuer, actual),
                    identity=actual[0] or None,
                    issuer=actual[1],
                )
            )
            continue
        attestation_file = attestation_path(path)
        problem = None
        if attestation_file.is_file():
            with quiet_sigstore():
                problem = _verify_attestation(
                    verifier, policy, path, attestation_file, (identity, issuer)
                )
        results.append(
            VerifyResult(
                path,
                bundle_file,
                "failed" if problem else "verified",
                problem or "",
                identity=actual[0] or None,
                issuer=actual[1],
                attestation=attestation_file if attestation_file.is_file() else None,
            )
        )
    return tuple(results)
