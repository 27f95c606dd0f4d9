"""OIDC identity tokens from the CI system, for Sigstore signing and trusted publishing.

GitHub Actions hands a job a token endpoint (``ACTIONS_ID_TOKEN_REQUEST_URL`` with the
bearer ``ACTIONS_ID_TOKEN_REQUEST_TOKEN``, given by ``permissions: id-token: write``);
GitLab CI puts the tokens a job declares under ``id_tokens:`` into variables. Other CI
systems (Buildkite, CircleCI, Google Cloud) are left to the ``id`` package, which reads
the process environment itself. Every token is registered as a secret the moment it is
read, and the claims of a token are decoded here (unverified: the CA or the index that
receives the token verifies it).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from poetflow.errors import IdentityTokenError
from poetflow.masking import register_secret

if TYPE_CHECKING:
    from poetflow.index import HttpResponse, IndexClient
    from poetflow.publish.retry import RetryPolicy

__all__ = [
    "CiToken",
    "ci_identity_token",
    "decode_claims",
    "github_token",
    "other_ci_token",
]

_GITHUB_URL = "ACTIONS_ID_TOKEN_REQUEST_URL"
_GITHUB_BEARER = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
# The CI systems the ``id`` package knows besides GitHub and GitLab, by their variables.
_OTHER_CI_VARIABLES = ("BUILDKITE", "CIRCLECI", "GOOGLE_SERVICE_ACCOUNT_NAME")


@dataclass(frozen=True)
class CiToken:
    """A token the CI gave, and where it came from (for messages: never the value)."""

    value: str = field(repr=False)
    source: str


def decode_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, unverified; ValueError when ``token`` is not a JWT."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT")
    padded = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError) as exc:  # bad base64, bad UTF-8, bad JSON
        raise ValueError(f"the payload is not base64 JSON ({exc})") from None
    if not isinstance(claims, dict):
        raise ValueError("the JWT payload is not an object")
    return claims


def github_token(
    audience: str,
    env: Mapping[str, str],
    client: IndexClient,
    policy: RetryPolicy | None = None,
) -> str:
    """Ask GitHub's token endpoint for a token for ``audience`` (retrying transient faults).

    An audience already in the request URL is replaced by ours. Raises IdentityTokenError
    when GitHub cannot be reached, refuses (no ``id-token: write``) or answers no token.
    """
    from poetflow.index import IndexTransportError
    from poetflow.publish.retry import Retrying, RetryPolicy

    bearer = env[_GITHUB_BEARER]
    register_secret(bearer)
    parts = urlsplit(env[_GITHUB_URL])
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "audience"]
    query.append(("audience", audience))
    url = urlunsplit(parts._replace(query=urlencode(query)))
    retrying = Retrying(policy or RetryPolicy(attempts=3, deadline=30.0))
    response: HttpResponse | None = None
    while True:
        try:
            response = client.get(url, headers={"Authorization": f"bearer {bearer}"})
        except IndexTransportError as exc:
            if retrying.should_retry(None):
                continue
            raise IdentityTokenError(
                f"GitHub's OIDC token endpoint ({parts.netloc}) could not be reached: {exc}.",
                hint="Retry the job; GitHub's token service may be briefly unavailable.",
            ) from None
        if response.ok or not retrying.should_retry(response):
            break
    if not response.ok:
        raise IdentityTokenError(
            f"GitHub refused an OIDC token for audience {audience!r} (HTTP {response.status}).",
            hint="Give the job `permissions: id-token: write`; workflows triggered from forks "
            "never get one.",
        )
    try:
        value = response.json().get("value")
    except (ValueError, AttributeError):
        value = None
    if not isinstance(value, str) or not value:
        raise IdentityTokenError(
            "GitHub's OIDC token endpoint answered without a token ('value').",
            hint="Retry the job; if it persists, report it to GitHub support.",
        )
    register_secret(value)
    return value


def other_ci_token(audience: str, env: Mapping[str, str]) -> CiToken | None:
    """A token from a CI system the ``id`` package detects (Buildkite, CircleCI, GCP).

    ``id`` reads ``os.environ`` and not ``env``, so it is asked only when ``env`` is the
    process environment, and never inside GitHub Actions or GitLab CI, whose own lookups
    explain a missing token better.
    """
    if env is not os.environ or env.get("GITHUB_ACTIONS") == "true" or env.get("GITLAB_CI"):
        return None
    import id as ambient

    try:
        value = ambient.detect_credential(audience)
    except ambient.IdentityError as exc:
        raise IdentityTokenError(
            f"The CI system offers an OIDC identity but did not give one for audience "
            f"{audience!r}: {exc}.",
            hint="Check the job's OIDC settings (e.g. the Buildkite agent or CircleCI's "
            "`circleci` tool must be available in the job).",
        ) from None
    if not value:
        return None
    register_secret(value)
    names = [name for name in _OTHER_CI_VARIABLES if env.get(name)]
    return CiToken(value, f"the {names[0].lower()} OIDC identity" if names else "the CI identity")


def ci_identity_token(
    audience: str,
    env: Mapping[str, str],
    *,
    client: IndexClient,
    gitlab_variables: Sequence[str],
    policy: RetryPolicy | None = None,
) -> CiToken | None:
    """The CI's token for ``audience``, or None when this CI offers none.

    The first of ``gitlab_variables`` that is set (a token the job was given explicitly),
    then GitHub's endpoint (when the job may ask it), then what the ``id`` package detects.
    """
    for variable in gitlab_variables:
        value = (env.get(variable) or "").strip()
        if value:
            register_secret(value)
            return CiToken(value, variable)
    if env.get(_GITHUB_URL) and env.get(_GITHUB_BEARER):
        return CiToken(github_token(audience, env, client, policy), "GitHub Actions")
    return other_ci_token(audience, env)
