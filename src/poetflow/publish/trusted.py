"""Trusted publishing: exchange the CI's OIDC identity for a short-lived upload token.

The protocol PyPI documents: ask the index for its audience (``GET /_/oidc/audience``),
get an ID token for that audience from the CI (GitHub: ``ACTIONS_ID_TOKEN_REQUEST_URL``;
GitLab: an ``id_tokens:`` variable), and POST it to ``/_/oidc/mint-token``; the answer's
``token`` is used as the password of ``__token__`` for this run's uploads.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from poetflow.ci.identity import ci_identity_token, decode_claims
from poetflow.errors import IdentityTokenError, TrustedPublishingError
from poetflow.index import HttpResponse, IndexClient, IndexTransportError
from poetflow.masking import register_secret
from poetflow.publish.credentials import TOKEN_USERNAME, Credentials, TrustedPublishing
from poetflow.publish.repositories import Repository
from poetflow.publish.retry import Retrying, RetryPolicy

__all__ = ["mint_upload_token", "oidc_endpoint"]

# Claims that identify a publisher, by provider: what to enter on the index.
_PUBLISHER_CLAIMS = {
    "github": ("repository", "workflow_ref", "environment"),
    "gitlab": ("project_path", "ci_config_ref_uri", "environment"),
}


def oidc_endpoint(repository: Repository, name: str) -> str:
    """``https://upload.pypi.org/legacy/`` -> ``https://upload.pypi.org/_/oidc/<name>``."""
    parts = urlsplit(repository.url)
    return urlunsplit((parts.scheme, parts.netloc, f"/_/oidc/{name}", "", ""))


def _call(client: IndexClient, policy: RetryPolicy, what: str, send: Any) -> HttpResponse:
    retrying = Retrying(policy)
    while True:
        try:
            response: HttpResponse = send()
        except IndexTransportError as exc:
            if retrying.should_retry(None):
                continue
            raise TrustedPublishingError(
                f"Trusted publishing: {what} failed: {exc}.",
                hint="Check the index URL and the network, then rerun.",
            ) from None
        if response.ok or not retrying.should_retry(response):
            return response


def _claims(token: str) -> dict[str, Any]:
    """The token's claims, for error messages only (the index verifies the signature)."""
    try:
        return decode_claims(token)
    except ValueError:
        return {}


def _audience(repository: Repository, client: IndexClient, policy: RetryPolicy) -> str:
    url = oidc_endpoint(repository, "audience")
    response = _call(client, policy, f"GET {url}", lambda: client.get(url))
    if response.status == 404:
        raise TrustedPublishingError(
            f"Repository {repository.name!r} ({repository.url}) does not support trusted "
            "publishing: it has no /_/oidc/audience endpoint.",
            hint="Use an API token instead (POETFLOW_TOKEN or POETRY_PYPI_TOKEN_<NAME>).",
        )
    try:
        audience = response.json()["audience"] if response.ok else None
    except (ValueError, KeyError, TypeError):
        audience = None
    if not isinstance(audience, str):
        raise TrustedPublishingError(
            f"Trusted publishing: {url} answered {response.status} without an audience.",
            hint="Check that the repository URL points at a PyPI-compatible index.",
        )
    return audience


def _identity(
    trusted: TrustedPublishing,
    audience: str,
    env: Mapping[str, str],
    client: IndexClient,
    policy: RetryPolicy,
) -> str:
    """The CI's OIDC token for the index's audience (poetflow.ci.identity)."""
    variables = (trusted.source,) if trusted.provider == "gitlab" else ()
    try:
        found = ci_identity_token(
            audience, env, client=client, gitlab_variables=variables, policy=policy
        )
    except IdentityTokenError as exc:
        raise TrustedPublishingError(f"Trusted publishing: {exc.message}", hint=exc.hint) from None
    if found is None:  # resolve_credentials saw the identity a moment ago
        raise TrustedPublishingError(
            f"Trusted publishing: {trusted.source} no longer offers an OIDC identity.",
            hint="Rerun the job.",
        )
    return found.value


def _mint_error(
    response: HttpResponse, repository: Repository, provider: str, claims: Mapping[str, Any]
) -> TrustedPublishingError:
    try:
        body = response.json()
        errors = body.get("errors") or []
        reasons = "; ".join(
            f"{error.get('code', '?')}: {error.get('description', '')}" for error in errors
        ) or str(body.get("message", ""))
    except (ValueError, AttributeError):
        reasons = response.text[:300]
    identity = ", ".join(
        f"{claim}={claims[claim]}" for claim in _PUBLISHER_CLAIMS[provider] if claims.get(claim)
    )
    return TrustedPublishingError(
        f"Repository {repository.name!r} refused the OIDC token (HTTP {response.status}): "
        f"{reasons}.",
        hint=(
            "Add a trusted publisher for each package on the index (project settings -> "
            f"Publishing) matching this job: {identity or 'see the token claims'}."
        ),
    )


def mint_upload_token(
    repository: Repository,
    trusted: TrustedPublishing,
    env: Mapping[str, str],
    client: IndexClient,
    policy: RetryPolicy | None = None,
) -> Credentials:
    """Exchange the CI identity for an upload token; every token is masked at once."""
    policy = policy or RetryPolicy(attempts=4, deadline=60.0)
    audience = _audience(repository, client, policy)
    identity = _identity(trusted, audience, env, client, policy)
    claims = _claims(identity)
    token_aud = claims.get("aud")
    if trusted.provider == "gitlab" and token_aud not in (None, audience, [audience]):
        raise TrustedPublishingError(
            f"{trusted.source} was issued for audience {token_aud!r}, but repository "
            f"{repository.name!r} expects {audience!r}.",
            hint=f"Declare `id_tokens: {trusted.source}: aud: {audience}` in the GitLab job.",
        )
    url = oidc_endpoint(repository, "mint-token")
    response = _call(
        client, policy, f"POST {url}", lambda: client.post_json(url, {"token": identity})
    )
    if not response.ok:
        raise _mint_error(response, repository, trusted.provider, claims)
    try:
        token = response.json().get("token")
    except ValueError:
        token = None
    if not isinstance(token, str) or not token:
        raise TrustedPublishingError(f"{url} answered without a token.")
    register_secret(token)
    return Credentials(TOKEN_USERNAME, token, f"trusted publishing ({trusted.provider})")
