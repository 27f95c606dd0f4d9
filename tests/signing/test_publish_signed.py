"""``poetflow publish --sign`` against the local Sigstore instance and a real pypiserver."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sigstore_double import WORKFLOW_IDENTITY, GitHubOidcEndpoint, SigstoreDouble

from poetflow.signing.options import SigningOptions
from poetflow.signing.verify import verify_artifacts

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index_server import FaultyProxy, IndexServer, start_index_server

pytestmark = pytest.mark.slow


@pytest.fixture
def index(tmp_path: Path) -> Iterator[tuple[IndexServer, FaultyProxy]]:
    server = start_index_server(tmp_path / "index")
    proxy = FaultyProxy(server.url)  # no faults planned: it records the upload forms
    yield server, proxy
    proxy.stop()
    server.stop()


def test_publish_sign_uploads_attestations_that_verify(
    demo_repo: Path,
    run_cli: Callable[..., Any],
    sigstore_double: SigstoreDouble,
    github_oidc: GitHubOidcEndpoint,
    index: tuple[IndexServer, FaultyProxy],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server, proxy = index
    pyproject = demo_repo / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + f'\n[tool.poetflow.repositories.local]\nurl = "{proxy.url}"\n'
        + f'\n[tool.poetflow.signing]\ntrust-config = "{sigstore_double.trust_config}"\n'
    )
    # The identity comes from GitHub Actions' OIDC endpoint, as in a real release job.
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", github_oidc.request_url)
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", github_oidc.request_token)
    monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_USERNAME", server.username)
    monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_PASSWORD", server.password)

    result = run_cli("publish", "-p", "acme-core", "-r", "local", "--sign", cwd=demo_repo)

    assert result.exit_code == 0, result.stderr
    assert github_oidc.audiences == ["sigstore"]
    dist = demo_repo / "packages" / "core" / "dist"
    artifacts = sorted(p for p in dist.iterdir() if p.name.endswith((".whl", ".tar.gz")))
    assert server.files() == [p.name for p in artifacts]
    assert len(proxy.upload_bodies) == 2
    for body in proxy.upload_bodies:
        text = body.decode("utf-8", "replace")
        match = re.search(r'name="content"; filename="([^"]+)"', text)
        assert match is not None
        field = re.search(r'name="attestations"\r\n\r\n(.*?)\r\n--', text, re.S)
        assert field is not None, f"{match.group(1)} was uploaded without its attestation"
        (sent,) = json.loads(field.group(1))
        on_disk = json.loads((dist / f"{match.group(1)}.publish.attestation").read_text())
        assert sent == on_disk

    results = verify_artifacts(
        artifacts,
        WORKFLOW_IDENTITY,
        sigstore_double.issuer.url,
        SigningOptions(trust_config=sigstore_double.trust_config),
    )
    assert [r.status for r in results] == ["verified", "verified"], results
    assert all(r.attestation is not None for r in results)

    # A rerun signs only what the index does not hold: nothing here, so no new log entries
    # and no identity token needed at all.
    entries = len(sigstore_double.tlog.entries)
    bundles = {p.name: p.read_bytes() for p in dist.glob("*.sigstore.json")}
    monkeypatch.delenv("ACTIONS_ID_TOKEN_REQUEST_URL")
    again = run_cli("publish", "-p", "acme-core", "-r", "local", "--sign", cwd=demo_repo)
    assert again.exit_code == 0, again.stderr
    assert len(sigstore_double.tlog.entries) == entries
    assert {p.name: p.read_bytes() for p in dist.glob("*.sigstore.json")} == bundles

    # With the wheel gone from the index, only the wheel is signed again and uploaded.
    wheel = next(p for p in artifacts if p.name.endswith(".whl"))
    (server.packages_dir / wheel.name).unlink()
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", github_oidc.request_url)
    third = run_cli("publish", "-p", "acme-core", "-r", "local", "--sign", cwd=demo_repo)
    assert third.exit_code == 0, third.stderr
    assert len(sigstore_double.tlog.entries) > entries
    resigned = {p.name for p in dist.glob("*.sigstore.json") if p.read_bytes() != bundles[p.name]}
    assert resigned == {wheel.name + ".sigstore.json"}
    assert server.files() == [p.name for p in artifacts]
