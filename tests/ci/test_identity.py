"""OIDC identity tokens from CI systems: GitHub's endpoint, GitLab's variables, the ``id``
package for the others; JWT claims; every token masked."""

from __future__ import annotations

import base64
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "signing"))

from sigstore_double.service import Reply, Request, Service, json_reply

from poetflow.ci.identity import ci_identity_token, decode_claims, github_token
from poetflow.errors import IdentityTokenError
from poetflow.index import IndexClient
from poetflow.masking import registered_secrets
from poetflow.publish.retry import RetryPolicy

BEARER = "ghs-identity-test-bearer-5150"
QUICK = RetryPolicy(attempts=3, base=0.01, max_delay=0.05, deadline=10.0)


def _jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"


class TokenEndpoint:
    """GitHub's token request endpoint; answers 503 to the first ``failures`` requests."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.audiences: list[str] = []
        self._service = Service(self._handle)
        self.url = f"{self._service.url}/token?api-version=2.0"

    def _handle(self, request: Request) -> Reply:
        if request.headers.get("authorization") != f"bearer {BEARER}":
            return json_reply(401, {"message": "Bad credentials"})
        if self.failures:
            self.failures -= 1
            return json_reply(503, {"message": "try again"})
        audience = request.path.split("audience=")[1]
        self.audiences.append(audience)
        return json_reply(200, {"value": _jwt({"aud": audience, "sub": "repo:acme/mono"})})

    def env(self) -> dict[str, str]:
        return {"ACTIONS_ID_TOKEN_REQUEST_URL": self.url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": BEARER}

    def stop(self) -> None:
        self._service.stop()


@pytest.fixture
def client() -> Iterator[IndexClient]:
    made = IndexClient(timeout=5)
    yield made
    made.close()


def test_claims_are_read_from_the_payload_and_garbage_is_refused() -> None:
    assert decode_claims(_jwt({"aud": "pypi", "exp": 5})) == {"aud": "pypi", "exp": 5}
    for bad in ("not-a-jwt", "a.!!!.c", f"a.{base64.urlsafe_b64encode(b'[1]').decode()}.c"):
        with pytest.raises(ValueError, match=r"JWT|base64"):
            decode_claims(bad)


def test_github_gives_a_token_for_the_audience_asked_for_and_both_are_masked(
    client: IndexClient,
) -> None:
    endpoint = TokenEndpoint(failures=1)  # one 503 first: retried
    try:
        env = endpoint.env()
        env["ACTIONS_ID_TOKEN_REQUEST_URL"] += "&audience=somebody-else"
        token = github_token("pypi", env, client, QUICK)
    finally:
        endpoint.stop()
    assert endpoint.audiences == ["pypi"]
    assert decode_claims(token)["aud"] == "pypi"
    assert {token, BEARER} <= registered_secrets()


def test_github_refusing_says_which_permission_is_missing(client: IndexClient) -> None:
    endpoint = TokenEndpoint()
    try:
        env = {**endpoint.env(), "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "not-the-bearer"}
        with pytest.raises(IdentityTokenError) as caught:
            github_token("sigstore", env, client, QUICK)
    finally:
        endpoint.stop()
    assert "HTTP 401" in caught.value.message
    assert "id-token: write" in str(caught.value.hint)


def test_a_token_given_in_a_variable_wins_over_the_github_endpoint(client: IndexClient) -> None:
    endpoint = TokenEndpoint()
    given = _jwt({"aud": "sigstore", "sub": "project_path:acme/mono"})
    try:
        env = {**endpoint.env(), "SIGSTORE_ID_TOKEN": given}
        found = ci_identity_token(
            "sigstore", env, client=client, gitlab_variables=("SIGSTORE_ID_TOKEN",)
        )
    finally:
        endpoint.stop()
    assert found is not None
    assert (found.value, found.source) == (given, "SIGSTORE_ID_TOKEN")
    assert endpoint.audiences == []
    assert given in registered_secrets()
    assert given not in repr(found)


def test_other_ci_systems_come_from_the_id_package(
    client: IndexClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Buildkite: ``id`` asks the agent (``buildkite-agent oidc request-token``)."""
    token = _jwt({"aud": "sigstore", "sub": "organization:acme:pipeline:release"})
    agent = tmp_path / "bin" / "buildkite-agent"
    agent.parent.mkdir()
    agent.write_text(
        f'#!/bin/sh\n[ "$*" = "oidc request-token --audience sigstore" ] && echo {token}\n'
    )
    agent.chmod(0o755)
    monkeypatch.setenv("PATH", f"{agent.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("BUILDKITE", "true")

    found = ci_identity_token("sigstore", os.environ, client=client, gitlab_variables=())
    assert found is not None
    assert found.value == token
    assert "buildkite" in found.source
    assert token in registered_secrets()
    # ``id`` reads the process environment: a mapping of another run is never handed to it.
    assert (
        ci_identity_token("sigstore", {"BUILDKITE": "true"}, client=client, gitlab_variables=())
        is None
    )


def test_an_agent_that_fails_is_one_clear_error(
    client: IndexClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = tmp_path / "bin" / "buildkite-agent"
    agent.parent.mkdir()
    agent.write_text("#!/bin/sh\necho 'no OIDC for this pipeline' >&2\nexit 1\n")
    agent.chmod(0o755)
    monkeypatch.setenv("PATH", f"{agent.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("BUILDKITE", "true")
    with pytest.raises(IdentityTokenError, match="audience 'sigstore'"):
        ci_identity_token("sigstore", os.environ, client=client, gitlab_variables=())


def test_inside_github_actions_the_id_package_is_not_asked(
    client: IndexClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("BUILDKITE", "true")  # would make ``id`` look for an agent
    assert ci_identity_token("sigstore", os.environ, client=client, gitlab_variables=()) is None
