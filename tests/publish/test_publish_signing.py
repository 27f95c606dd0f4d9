"""Signing on publish: no identity means no upload; PEP 740 attestations travel with the files."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from publish_fixtures import write_workspace

from index_server import FaultyProxy, IndexServer

pytestmark = pytest.mark.slow


@pytest.mark.usefixtures("local_credentials")
def test_sign_without_an_identity_token_stops_before_any_upload(
    run_cli: Callable[..., object], tmp_path: Path, index_server: IndexServer
) -> None:
    root = write_workspace(tmp_path / "mono", {"acme-core": []}, index_server.url)
    result = run_cli("publish", "--root", root, "-r", "local", "--sign", "--no-build")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "identity token" in result.stderr  # type: ignore[attr-defined]
    assert "POETFLOW_SIGSTORE_IDENTITY_TOKEN" in result.stderr  # type: ignore[attr-defined]
    assert index_server.files() == []


def test_attestations_beside_files_are_sent_in_the_upload_form(
    run_cli: Callable[..., object], tmp_path: Path, index_server: IndexServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    proxy = FaultyProxy(index_server.url)
    try:
        root = write_workspace(tmp_path / "mono", {"acme-core": []}, proxy.url)
        dist = root / "packages" / "acme-core" / "dist"
        planted = {}
        for artifact in sorted(dist.iterdir()):
            attestation = {
                "version": 1,
                "envelope": {"statement": artifact.name, "signature": "c2ln"},
            }
            artifact.with_name(artifact.name + ".publish.attestation").write_text(
                json.dumps(attestation), encoding="utf-8"
            )
            planted[artifact.name] = attestation
        monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_USERNAME", index_server.username)
        monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_PASSWORD", index_server.password)
        result = run_cli("publish", "--root", root, "-r", "local", "--no-build")
    finally:
        proxy.stop()
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    assert len(proxy.upload_bodies) == 2
    for body in proxy.upload_bodies:
        text = body.decode("utf-8", "replace")
        filename = re.search(r'name="content"; filename="([^"]+)"', text).group(1)  # type: ignore[union-attr]
        field = re.search(r'name="attestations"\r\n\r\n(.*?)\r\n--', text, re.S)
        assert field is not None, f"{filename} was uploaded without attestations"
        assert json.loads(field.group(1)) == [planted[filename]]
    # The attestation files themselves are not distributions: never uploaded.
    assert index_server.files() == ["acme_core-0.1.0-py3-none-any.whl", "acme_core-0.1.0.tar.gz"]
