"""Sign with the unmodified sigstore client against the local instance, then verify."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sigstore_double import WORKFLOW_IDENTITY, SigstoreDouble
from sigstore_double.oidc import OidcIssuer

from poetflow.errors import IdentityTokenError, SigningError, SigningSetupError
from poetflow.signing.options import SigningOptions, signing_options
from poetflow.signing.sign import sign_artifacts
from poetflow.signing.verify import verify_artifacts


def _options(double: SigstoreDouble, token: str | None = None) -> SigningOptions:
    return SigningOptions(
        trust_config=double.trust_config,
        identity_token=token or double.issuer.token(WORKFLOW_IDENTITY),
    )


def test_sign_writes_bundle_and_attestation_that_verify(
    sigstore_double: SigstoreDouble, wheel: Path
) -> None:
    notes = wheel.parent / "release-notes.txt"
    notes.write_text("acme 1.0\n")
    entries_before = len(sigstore_double.tlog.entries)
    certificates_before = len(sigstore_double.ca.issued)

    signed = sign_artifacts([wheel, notes], _options(sigstore_double))

    assert [item.artifact for item in signed] == [wheel, notes]
    assert signed[0].bundle == wheel.with_name(wheel.name + ".sigstore.json")
    assert signed[0].attestation == wheel.with_name(wheel.name + ".publish.attestation")
    assert signed[1].attestation is None  # not a distribution: no PEP 740 attestation
    assert {item.identity for item in signed} == {WORKFLOW_IDENTITY}
    # One short-lived certificate for the whole run; bundle entries plus the attestation's.
    assert len(sigstore_double.ca.issued) == certificates_before + 1
    assert len(sigstore_double.tlog.entries) == entries_before + 3
    bundle = json.loads(signed[0].bundle.read_text())
    assert bundle["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    (entry,) = bundle["verificationMaterial"]["tlogEntries"]
    assert entry["kindVersion"] == {"kind": "hashedrekord", "version": "0.0.1"}
    assert entry["inclusionProof"]["checkpoint"]["envelope"].startswith("rekor.poetflow.test")
    attestation = json.loads(signed[0].attestation.read_text())  # type: ignore[union-attr]
    assert attestation["version"] == 1
    statement = json.loads(__import__("base64").b64decode(attestation["envelope"]["statement"]))
    assert statement["predicateType"] == "https://docs.pypi.org/attestations/publish/v1"
    assert statement["subject"][0]["name"] == wheel.name

    results = verify_artifacts(
        [wheel, notes], WORKFLOW_IDENTITY, sigstore_double.issuer.url, _options(sigstore_double)
    )
    assert [result.status for result in results] == ["verified", "verified"], results
    assert results[0].attestation == signed[0].attestation


def test_sigstore_cli_verifies_what_poetflow_signed(
    sigstore_double: SigstoreDouble, wheel: Path
) -> None:
    """The reference client, as a consumer would run it, accepts the bundle."""
    (signed,) = sign_artifacts([wheel], _options(sigstore_double))
    env = {**os.environ, "HOME": str(wheel.parent)}
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "sigstore",
            "--trust-config",
            str(sigstore_double.trust_config),
            "verify",
            "identity",
            "--bundle",
            str(signed.bundle),
            "--cert-identity",
            WORKFLOW_IDENTITY,
            "--cert-oidc-issuer",
            sigstore_double.issuer.url,
            str(wheel),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "OK" in completed.stderr


@pytest.fixture
def signed_wheel(sigstore_double: SigstoreDouble, wheel: Path) -> Path:
    sign_artifacts([wheel], _options(sigstore_double))
    return wheel


def test_tampered_artifact_is_rejected(sigstore_double: SigstoreDouble, signed_wheel: Path) -> None:
    with signed_wheel.open("ab") as handle:
        handle.write(b"\0")
    (result,) = verify_artifacts(
        [signed_wheel], WORKFLOW_IDENTITY, sigstore_double.issuer.url, _options(sigstore_double)
    )
    assert result.status == "failed"
    assert "modified after signing" in result.detail


def test_wrong_identity_is_rejected_naming_the_signer(
    sigstore_double: SigstoreDouble, signed_wheel: Path
) -> None:
    expected = "https://github.com/acme/demo/.github/workflows/other.yml@refs/heads/main"
    (result,) = verify_artifacts(
        [signed_wheel], expected, sigstore_double.issuer.url, _options(sigstore_double)
    )
    assert result.status == "failed"
    assert result.detail == f"wrong identity: it was signed by {WORKFLOW_IDENTITY}, not {expected}"


def test_wrong_issuer_is_rejected_naming_the_issuer(
    sigstore_double: SigstoreDouble, signed_wheel: Path
) -> None:
    (result,) = verify_artifacts(
        [signed_wheel],
        WORKFLOW_IDENTITY,
        "https://token.actions.githubusercontent.com",
        _options(sigstore_double),
    )
    assert result.status == "failed"
    assert result.detail.startswith("wrong issuer")
    assert sigstore_double.issuer.url in result.detail
    assert "https://token.actions.githubusercontent.com" in result.detail


def test_attestation_for_another_file_is_rejected(
    sigstore_double: SigstoreDouble, signed_wheel: Path
) -> None:
    other = signed_wheel.with_name("rfc8785-0.1.3-py3-none-any.whl")
    other.write_bytes(signed_wheel.read_bytes() + b"\0")
    sign_artifacts([other], _options(sigstore_double))
    stolen = other.with_name(other.name + ".publish.attestation")
    stolen.replace(signed_wheel.with_name(signed_wheel.name + ".publish.attestation"))
    (result,) = verify_artifacts(
        [signed_wheel], WORKFLOW_IDENTITY, sigstore_double.issuer.url, _options(sigstore_double)
    )
    assert result.status == "failed"
    assert "is for another file" in result.detail


def test_public_good_root_does_not_trust_the_private_instance(
    sigstore_double: SigstoreDouble, signed_wheel: Path
) -> None:
    (result,) = verify_artifacts(
        [signed_wheel], WORKFLOW_IDENTITY, sigstore_double.issuer.url, SigningOptions(offline=True)
    )
    assert result.status == "failed"


def test_email_identity_is_certified_as_an_email_san(
    sigstore_double: SigstoreDouble, wheel: Path
) -> None:
    token = sigstore_double.issuer.token("user-1234", email="release@acme.test")
    (signed,) = sign_artifacts([wheel], _options(sigstore_double, token))
    assert signed.identity == "release@acme.test"
    (result,) = verify_artifacts(
        [wheel], "release@acme.test", sigstore_double.issuer.url, _options(sigstore_double)
    )
    assert result.ok, result.detail


def test_ca_refuses_a_token_from_an_untrusted_issuer(
    sigstore_double: SigstoreDouble, wheel: Path
) -> None:
    stranger = OidcIssuer()
    try:
        token = stranger.token(WORKFLOW_IDENTITY)
        with pytest.raises(SigningError) as caught:
            sign_artifacts([wheel], _options(sigstore_double, token))
    finally:
        stranger.stop()
    assert caught.value.exit_code == 1
    assert "certificate authority" in caught.value.message
    assert "HTTP 401" in caught.value.message
    assert not wheel.with_name(wheel.name + ".sigstore.json").exists()


def test_expired_token_is_refused_before_contacting_the_instance(
    sigstore_double: SigstoreDouble, wheel: Path
) -> None:
    token = sigstore_double.issuer.token(WORKFLOW_IDENTITY, lifetime=-60)
    requests_before = len(sigstore_double.ca._service.requests)
    with pytest.raises(IdentityTokenError, match="expired"):
        sign_artifacts([wheel], _options(sigstore_double, token))
    assert len(sigstore_double.ca._service.requests) == requests_before


def test_unreachable_transparency_log_is_named(
    sigstore_double: SigstoreDouble, wheel: Path, tmp_path: Path
) -> None:
    config = json.loads(sigstore_double.trust_config.read_text())
    config["signingConfig"]["rekorTlogUrls"][0]["url"] = "http://127.0.0.1:9"
    broken = tmp_path / "broken_trust_config.json"
    broken.write_text(json.dumps(config))
    options = SigningOptions(
        trust_config=broken, identity_token=sigstore_double.issuer.token(WORKFLOW_IDENTITY)
    )
    with pytest.raises(SigningError) as caught:
        sign_artifacts([wheel], options)
    assert caught.value.exit_code == 1
    assert "http://127.0.0.1:9" in caught.value.message
    assert "could not be reached" in caught.value.message
    assert not wheel.with_name(wheel.name + ".sigstore.json").exists()


def test_bare_trusted_root_verifies_but_cannot_sign(
    sigstore_double: SigstoreDouble, signed_wheel: Path, tmp_path: Path
) -> None:
    root_only = tmp_path / "trusted_root.json"
    root_only.write_text(
        json.dumps(json.loads(sigstore_double.trust_config.read_text())["trustedRoot"])
    )
    options = SigningOptions(
        trust_config=root_only, identity_token=sigstore_double.issuer.token(WORKFLOW_IDENTITY)
    )
    (result,) = verify_artifacts(
        [signed_wheel], WORKFLOW_IDENTITY, sigstore_double.issuer.url, options
    )
    assert result.ok, result.detail
    with pytest.raises(SigningSetupError, match="is not a ClientTrustConfig") as caught:
        sign_artifacts([signed_wheel], options)
    assert "signing config" in str(caught.value.hint)


def test_a_transparency_log_that_never_answers_times_out(
    sigstore_double: SigstoreDouble, wheel: Path, tmp_path: Path
) -> None:
    # Accepts connections (the kernel's backlog does) and never answers a byte.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    config = json.loads(sigstore_double.trust_config.read_text())
    config["signingConfig"]["rekorTlogUrls"][0]["url"] = url
    hanging = tmp_path / "hanging_trust_config.json"
    hanging.write_text(json.dumps(config))
    options = SigningOptions(
        trust_config=hanging,
        identity_token=sigstore_double.issuer.token(WORKFLOW_IDENTITY),
        timeout=1.0,
    )
    outcome: list[BaseException] = []

    def sign() -> None:
        try:
            sign_artifacts([wheel], options)
        except BaseException as exc:
            outcome.append(exc)

    # In a thread so that, were the timeout missing, the test fails instead of hanging.
    worker = threading.Thread(target=sign, daemon=True)
    worker.start()
    worker.join(timeout=60)
    silent.close()
    assert not worker.is_alive(), "signing hung on a silent transparency log"
    assert len(outcome) == 1
    assert isinstance(outcome[0], SigningError)
    assert url in outcome[0].message
    assert "Timeout" in outcome[0].message
    assert not wheel.with_name(wheel.name + ".sigstore.json").exists()


def test_signing_timeout_comes_from_the_configuration() -> None:
    from poetflow.errors import ConfigError
    from poetflow.signing.options import parse_signing
    from poetflow.tables import Table

    def settings(table: dict[str, object]) -> object:
        return parse_signing(Table(table, "pyproject.toml", "tool.poetflow.signing"))

    assert signing_options(settings({"timeout": 5})).timeout == 5.0  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="timeout must be a positive number"):
        settings({"timeout": "soon"})
