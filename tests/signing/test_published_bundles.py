"""Real bundles published by sigstore-python verify offline; tampered copies are rejected."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from poetflow.signing.options import SigningOptions
from poetflow.signing.verify import verify_artifacts

RFC8785_IDENTITY = (
    "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
)
GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
PRODUCTION = SigningOptions(offline=True)
STAGING = SigningOptions(offline=True, staging=True)


def test_published_wheel_bundle_verifies_offline(published: Path) -> None:
    (result,) = verify_artifacts(
        [published / "bundle_v3_github.whl"], RFC8785_IDENTITY, GITHUB_ISSUER, PRODUCTION
    )
    assert result.ok, result.detail
    assert result.bundle == published / "bundle_v3_github.whl.sigstore"
    assert result.identity == RFC8785_IDENTITY
    assert result.issuer == GITHUB_ISSUER


@pytest.mark.parametrize(
    ("artifact", "bundle", "identity"),
    [
        ("bundle.txt", "bundle.txt.sigstore", "a@tny.town"),
        ("staging-rekor-v2.txt", "staging-rekor-v2.txt.sigstore.json", "jku@goto.fi"),
    ],
)
def test_published_staging_bundles_verify_offline(
    published: Path, artifact: str, bundle: str, identity: str
) -> None:
    (result,) = verify_artifacts(
        [published / artifact], identity, "https://github.com/login/oauth", STAGING
    )
    assert result.ok, result.detail
    assert result.bundle == published / bundle


def test_staging_bundle_is_not_trusted_by_the_production_root(published: Path) -> None:
    (result,) = verify_artifacts(
        [published / "bundle.txt"], "a@tny.town", "https://github.com/login/oauth", PRODUCTION
    )
    assert result.status == "failed"


def test_tampered_copy_of_published_wheel_is_rejected(published: Path) -> None:
    wheel = published / "bundle_v3_github.whl"
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0x01
    wheel.write_bytes(bytes(data))
    (result,) = verify_artifacts([wheel], RFC8785_IDENTITY, GITHUB_ISSUER, PRODUCTION)
    assert result.status == "failed"
    assert "modified after signing" in result.detail


def test_tampered_signature_in_published_bundle_is_rejected(published: Path) -> None:
    bundle = published / "bundle_v3_github.whl.sigstore"
    document = json.loads(bundle.read_text())
    signature = bytearray(base64.b64decode(document["messageSignature"]["signature"]))
    signature[-1] ^= 0x01
    document["messageSignature"]["signature"] = base64.b64encode(bytes(signature)).decode()
    bundle.write_text(json.dumps(document))
    (result,) = verify_artifacts(
        [published / "bundle_v3_github.whl"], RFC8785_IDENTITY, GITHUB_ISSUER, PRODUCTION
    )
    assert result.status == "failed"
    assert "modified after signing" in result.detail


def test_wrong_identity_on_published_bundle_names_the_real_signer(published: Path) -> None:
    (result,) = verify_artifacts(
        [published / "bundle_v3_github.whl"],
        "https://github.com/evil/fork/.github/workflows/release.yml@refs/tags/v0.1.2",
        GITHUB_ISSUER,
        PRODUCTION,
    )
    assert result.status == "failed"
    assert result.detail.startswith("wrong identity")
    assert RFC8785_IDENTITY in result.detail


def test_wrong_issuer_on_published_bundle_names_the_real_issuer(published: Path) -> None:
    (result,) = verify_artifacts(
        [published / "bundle_v3_github.whl"],
        RFC8785_IDENTITY,
        "https://gitlab.com",
        PRODUCTION,
    )
    assert result.status == "failed"
    assert result.detail.startswith("wrong issuer")
    assert GITHUB_ISSUER in result.detail


def test_artifact_without_bundle_is_reported_missing(tmp_path: Path) -> None:
    artifact = tmp_path / "lonely.txt"
    artifact.write_text("no signature here")
    (result,) = verify_artifacts([artifact], RFC8785_IDENTITY, GITHUB_ISSUER, PRODUCTION)
    assert result.status == "missing"
    assert "lonely.txt.sigstore.json" in result.detail
