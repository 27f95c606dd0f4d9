"""Trusted publishing against a local double of the OIDC endpoints, speaking PyPI's protocol."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from publish_fixtures import write_workspace

from index_server import FaultyProxy, IndexServer, start_index_server

pytestmark = pytest.mark.slow

AUDIENCE = "poetflow-test-index"
REQUEST_TOKEN = "gh-request-T0ken-8f2a"
MINTED = "pypi-minted-upload-T0ken-77e1"


def _jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def _claims(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    decoded: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=="))
    return decoded


def _json(status: int, body: object) -> tuple[int, bytes, dict[str, str]]:
    return status, json.dumps(body).encode(), {"Content-Type": "application/json"}


class OidcDouble:
    """The index side (audience, mint-token) and GitHub's token endpoint, in front of pypiserver."""

    def __init__(self, server: IndexServer, trusted_repository: str) -> None:
        self.trusted_repository = trusted_repository
        self.proxy = FaultyProxy(
            server.url,
            routes={
                "/_/oidc/audience": self.audience,
                "/_/oidc/mint-token": self.mint,
                "/github/token": self.github_token,
            },
        )
        self.url = self.proxy.url

    def audience(self, method: str, path: str, headers: dict[str, str], body: bytes):  # type: ignore[no-untyped-def]
        return _json(200, {"audience": AUDIENCE})

    def github_token(self, method: str, path: str, headers: dict[str, str], body: bytes):  # type: ignore[no-untyped-def]
        if headers.get("Authorization") != f"bearer {REQUEST_TOKEN}":
            return _json(401, {"message": "bad request token"})
        audience = parse_qs(urlsplit(path).query)["audience"][0]
        claims = {
            "aud": audience,
            "iss": "https://token.actions.githubusercontent.com",
            "repository": "acme/mono",
            "workflow_ref": "acme/mono/.github/workflows/release.yml@refs/heads/main",
            "environment": "release",
        }
        return _json(200, {"value": _jwt(claims)})

    def mint(self, method: str, path: str, headers: dict[str, str], body: bytes):  # type: ignore[no-untyped-def]
        claims = _claims(json.loads(body)["token"])
        if claims.get("aud") != AUDIENCE:
            return _json(422, {"message": "Token request failed", "errors": [
                {"code": "invalid-payload", "description": "audience mismatch"}]})  # fmt: skip
        owner = claims.get("repository") or claims.get("project_path")
        if owner != self.trusted_repository:
            return _json(422, {"message": "Token request failed", "errors": [{
                "code": "invalid-publisher",
                "description": "valid token, but no corresponding publisher "
                "(All lookup strategies exhausted)"}]})  # fmt: skip
        return _json(200, {"success": True, "token": MINTED, "expires": 2000000000})


@pytest.fixture
def token_index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IndexServer]:
    """An index whose only account is ``__token__`` with the token the double mints."""
    server = start_index_server(tmp_path_factory.mktemp("oidc-index"), "__token__", MINTED)
    yield server
    server.stop()


@pytest.fixture
def double(token_index: IndexServer) -> Callable[[str], OidcDouble]:
    made: list[OidcDouble] = []

    def make(trusted_repository: str) -> OidcDouble:
        made.append(OidcDouble(token_index, trusted_repository))
        return made[-1]

    yield make  # type: ignore[misc]
    for item in made:
        item.proxy.stop()


def _github_env(monkeypatch: pytest.MonkeyPatch, double: OidcDouble) -> None:
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", double.url + "github/token?api-version=2.0")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)


def test_github_trusted_publishing_uploads_with_a_minted_token(
    run_cli: Callable[..., object], tmp_path: Path, token_index: IndexServer,
    double: Callable[[str], OidcDouble], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    oidc = double("acme/mono")
    root = write_workspace(tmp_path / "mono", {"acme-core": []}, oidc.url)
    _github_env(monkeypatch, oidc)
    result = run_cli("publish", "--root", root, "-r", "local", "--json")
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    report = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert report["credentials"] == "trusted publishing (github)"
    assert token_index.files() == ["acme_core-0.1.0-py3-none-any.whl", "acme_core-0.1.0.tar.gz"]
    output = result.stdout + result.stderr  # type: ignore[attr-defined]
    assert MINTED not in output
    assert REQUEST_TOKEN not in output

    # In GitHub Actions the runner is told to mask both tokens; nothing else shows them.
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    rerun = run_cli("publish", "--root", root, "-r", "local")
    assert rerun.exit_code == 0, rerun.stderr  # type: ignore[attr-defined]
    lines = (rerun.stdout + rerun.stderr).splitlines()  # type: ignore[attr-defined]
    assert f"::add-mask::{MINTED}" in lines
    assert f"::add-mask::{REQUEST_TOKEN}" in lines
    assert not [line for line in lines if MINTED in line and not line.startswith("::add-mask::")]


def test_gitlab_id_token_is_exchanged(
    run_cli: Callable[..., object], tmp_path: Path, token_index: IndexServer,
    double: Callable[[str], OidcDouble], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    oidc = double("acme/mono")
    root = write_workspace(tmp_path / "mono", {"acme-core": []}, oidc.url)
    monkeypatch.setenv("GITLAB_CI", "true")
    monkeypatch.setenv("PYPI_ID_TOKEN", _jwt({"aud": AUDIENCE, "project_path": "acme/mono"}))
    result = run_cli("publish", "--root", root, "-r", "local")
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    assert len(token_index.files()) == 2


def test_no_trusted_publisher_configured_says_what_to_configure(
    run_cli: Callable[..., object], tmp_path: Path, token_index: IndexServer,
    double: Callable[[str], OidcDouble], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    oidc = double("acme/other-repo")
    root = write_workspace(tmp_path / "mono", {"acme-core": []}, oidc.url)
    _github_env(monkeypatch, oidc)
    result = run_cli("publish", "--root", root, "-r", "local")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    stderr = result.stderr  # type: ignore[attr-defined]
    assert "invalid-publisher" in stderr
    assert "repository=acme/mono" in stderr
    assert "workflow_ref=acme/mono/.github/workflows/release.yml@refs/heads/main" in stderr
    assert token_index.files() == []


def test_github_job_without_id_token_permission_is_told_to_add_it(
    run_cli: Callable[..., object], tmp_path: Path, token_index: IndexServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    root = write_workspace(tmp_path / "mono", {"acme-core": []}, token_index.url)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = run_cli("publish", "--root", root, "-r", "local")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "id-token: write" in result.stderr  # type: ignore[attr-defined]
