"""Identity tokens from CI: GitHub's OIDC request endpoint, GitLab's SIGSTORE_ID_TOKEN, files."""

from __future__ import annotations

from pathlib import Path

import pytest
from sigstore_double import WORKFLOW_IDENTITY, GitHubOidcEndpoint, SigstoreDouble

from poetflow.errors import IdentityTokenError
from poetflow.masking import registered_secrets
from poetflow.signing.options import SigningOptions
from poetflow.signing.sign import sign_artifacts
from poetflow.signing.tokens import describe_token, resolve_identity_token
from poetflow.signing.verify import verify_artifacts

NO_OPTIONS = SigningOptions()


def _github_env(endpoint: GitHubOidcEndpoint, **extra: str) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": endpoint.request_url,
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": endpoint.request_token,
        **extra,
    }


def test_github_token_is_requested_for_the_sigstore_audience(
    github_oidc: GitHubOidcEndpoint,
) -> None:
    token = resolve_identity_token(NO_OPTIONS, _github_env(github_oidc))
    assert github_oidc.audiences == ["sigstore"]
    (request,) = github_oidc._service.requests
    assert request.headers["authorization"] == f"bearer {github_oidc.request_token}"
    assert "api-version=2.0" in request.path
    info = describe_token(token)
    assert info.audience == ("sigstore",)
    assert info.subject == WORKFLOW_IDENTITY
    assert {token, github_oidc.request_token} <= registered_secrets()


def test_github_request_url_with_an_audience_gets_ours_instead(
    github_oidc: GitHubOidcEndpoint,
) -> None:
    env = _github_env(github_oidc)
    env["ACTIONS_ID_TOKEN_REQUEST_URL"] += "&audience=pypi"
    resolve_identity_token(NO_OPTIONS, env)
    assert github_oidc.audiences == ["sigstore"]


def test_github_refusal_explains_the_missing_permission(github_oidc: GitHubOidcEndpoint) -> None:
    env = _github_env(github_oidc, ACTIONS_ID_TOKEN_REQUEST_TOKEN="not-the-right-request-token")
    with pytest.raises(IdentityTokenError) as caught:
        resolve_identity_token(NO_OPTIONS, env)
    assert "HTTP 401" in caught.value.message
    assert "id-token: write" in str(caught.value)
    assert caught.value.exit_code == 2


def test_github_actions_without_id_token_permission() -> None:
    with pytest.raises(IdentityTokenError) as caught:
        resolve_identity_token(NO_OPTIONS, {"GITHUB_ACTIONS": "true"})
    assert "ACTIONS_ID_TOKEN_REQUEST_URL" in caught.value.message
    assert "permissions: id-token: write" in str(caught.value.hint)


def test_github_endpoint_unreachable_is_one_clear_error() -> None:
    env = {
        "GITHUB_ACTIONS": "true",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:9/token?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token",
    }
    with pytest.raises(IdentityTokenError, match="could not be reached"):
        resolve_identity_token(SigningOptions(timeout=2), env)


def test_gitlab_id_token_is_used(sigstore_double: SigstoreDouble) -> None:
    token = sigstore_double.issuer.token(
        "https://gitlab.com/acme/demo//.gitlab-ci.yml@refs/heads/main"
    )
    env = {"GITLAB_CI": "true", "SIGSTORE_ID_TOKEN": token}
    assert resolve_identity_token(NO_OPTIONS, env) == token


def test_gitlab_without_id_tokens_says_what_to_declare() -> None:
    with pytest.raises(IdentityTokenError) as caught:
        resolve_identity_token(NO_OPTIONS, {"GITLAB_CI": "true"})
    assert "SIGSTORE_ID_TOKEN is not set" in caught.value.message
    assert "id_tokens" in str(caught.value.hint)
    assert "aud: sigstore" in str(caught.value.hint)


def test_gitlab_token_for_another_audience_is_refused(sigstore_double: SigstoreDouble) -> None:
    token = sigstore_double.issuer.token(
        "https://gitlab.com/acme/demo", audience="https://gitlab.com"
    )
    with pytest.raises(IdentityTokenError) as caught:
        resolve_identity_token(NO_OPTIONS, {"GITLAB_CI": "true", "SIGSTORE_ID_TOKEN": token})
    assert "audience https://gitlab.com" in caught.value.message
    assert "aud: sigstore" in str(caught.value.hint)


def test_no_ci_and_no_token_names_every_way_to_provide_one() -> None:
    with pytest.raises(IdentityTokenError) as caught:
        resolve_identity_token(NO_OPTIONS, {})
    text = str(caught.value)
    assert "POETFLOW_SIGSTORE_IDENTITY_TOKEN" in text
    assert "id-token: write" in text
    assert "SIGSTORE_ID_TOKEN" in text


def test_poetflow_token_file_wins_over_ambient_credentials(
    sigstore_double: SigstoreDouble, tmp_path: Path
) -> None:
    mine = sigstore_double.issuer.token(WORKFLOW_IDENTITY)
    (tmp_path / "token").write_text(mine + "\n")
    env = {
        "POETFLOW_SIGSTORE_IDENTITY_TOKEN_FILE": str(tmp_path / "token"),
        "SIGSTORE_ID_TOKEN": sigstore_double.issuer.token("https://gitlab.com/other"),
    }
    assert resolve_identity_token(NO_OPTIONS, env) == mine


def test_unreadable_token_file_names_the_variable(tmp_path: Path) -> None:
    env = {"POETFLOW_SIGSTORE_IDENTITY_TOKEN_FILE": str(tmp_path / "absent")}
    with pytest.raises(IdentityTokenError, match="POETFLOW_SIGSTORE_IDENTITY_TOKEN_FILE"):
        resolve_identity_token(NO_OPTIONS, env)


def test_garbage_token_is_a_clear_error() -> None:
    with pytest.raises(IdentityTokenError, match="not a valid OIDC token"):
        resolve_identity_token(NO_OPTIONS, {"POETFLOW_SIGSTORE_IDENTITY_TOKEN": "not-a-jwt"})


def test_signing_in_github_actions_end_to_end(
    sigstore_double: SigstoreDouble, github_oidc: GitHubOidcEndpoint, wheel: Path
) -> None:
    options = SigningOptions(trust_config=sigstore_double.trust_config)
    (signed,) = sign_artifacts([wheel], options, _github_env(github_oidc))
    assert signed.identity == WORKFLOW_IDENTITY
    (result,) = verify_artifacts([wheel], WORKFLOW_IDENTITY, sigstore_double.issuer.url, options)
    assert result.ok, result.detail
