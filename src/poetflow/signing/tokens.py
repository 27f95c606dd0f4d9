"""The OIDC identity to sign as: an explicit token, PoetFlow's variable, else the CI's own."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from poetflow.ci.identity import ci_identity_token, decode_claims
from poetflow.errors import IdentityTokenError
from poetflow.masking import register_secret
from poetflow.signing.options import SigningOptions

__all__ = ["AUDIENCE", "TOKEN_ENV", "TokenInfo", "describe_token", "resolve_identity_token"]

AUDIENCE = "sigstore"
TOKEN_ENV = "POETFLOW_SIGSTORE_IDENTITY_TOKEN"
# GitLab's id_tokens variable for audience sigstore (the name sigstore-python reads too).
_GITLAB_VARIABLE = "SIGSTORE_ID_TOKEN"
_GITLAB_HINT = f"In .gitlab-ci.yml declare `id_tokens: {_GITLAB_VARIABLE}: aud: sigstore`."


@dataclass(frozen=True)
class TokenInfo:
    """The unverified claims of an identity token that users need to see."""

    issuer: str
    subject: str
    audience: tuple[str, ...]
    expires: int | None


def describe_token(token: str) -> TokenInfo:
    """Read (without verifying: the CA does that) who a token speaks for."""
    try:
        claims = decode_claims(token)
    except ValueError as exc:
        raise IdentityTokenError(
            f"The Sigstore identity token is not a valid OIDC token (JWT): {exc}.",
            hint="Pass the raw ID token issued by your CI or identity provider.",
        ) from None
    audience = claims.get("aud", ())
    audiences = (audience,) if isinstance(audience, str) else tuple(str(a) for a in audience)
    subject = claims.get("email") or claims.get("sub") or ""
    expires = claims.get("exp")
    return TokenInfo(
        issuer=str(claims.get("iss", "")),
        subject=str(subject),
        audience=audiences,
        expires=int(expires) if isinstance(expires, (int, float)) else None,
    )


def _checked_token(token: str, source: str, hint: str) -> str:
    token = token.strip()
    register_secret(token)
    info = describe_token(token)
    if AUDIENCE not in info.audience:
        shown = ", ".join(info.audience) or "none"
        raise IdentityTokenError(
            f"The identity token from {source} is for audience {shown}, "
            f"but Sigstore needs audience {AUDIENCE!r}.",
            hint=hint,
        )
    if info.expires is not None and info.expires <= time.time():
        raise IdentityTokenError(
            f"The identity token from {source} expired at "
            f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(info.expires))}.",
            hint="Request a fresh token right before signing (they live minutes).",
        )
    return token


def _read_token_file(path: str, variable: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise IdentityTokenError(
            f"{variable} names {path}, which cannot be read: {exc.strerror}.",
            hint="Mount the identity token file or unset the variable.",
        ) from None


def resolve_identity_token(
    options: SigningOptions, environ: Mapping[str, str] | None = None
) -> str:
    """The OIDC identity token to sign with, from the first source that has one.

    ``options.identity_token``; ``POETFLOW_SIGSTORE_IDENTITY_TOKEN`` (or ``_FILE``); then
    the CI's (:mod:`poetflow.ci.identity`, audience ``sigstore``): GitLab's
    ``SIGSTORE_ID_TOKEN``, GitHub Actions' token endpoint, what the ``id`` package detects.
    Each missing piece raises :class:`IdentityTokenError` saying how to provide it.
    """
    from poetflow.index import IndexClient

    env = os.environ if environ is None else environ
    if options.identity_token:
        return _checked_token(
            options.identity_token,
            "the signing options",
            "Pass a token issued for audience 'sigstore'.",
        )
    own_hint = f"Request the token for audience {AUDIENCE!r} before setting {TOKEN_ENV}."
    if env.get(TOKEN_ENV):
        return _checked_token(env[TOKEN_ENV], TOKEN_ENV, own_hint)
    if env.get(f"{TOKEN_ENV}_FILE"):
        variable = f"{TOKEN_ENV}_FILE"
        return _checked_token(_read_token_file(env[variable], variable), variable, own_hint)
    client = IndexClient(timeout=options.timeout, pool_size=1)
    try:
        found = ci_identity_token(
            AUDIENCE, env, client=client, gitlab_variables=(_GITLAB_VARIABLE,)
        )
    finally:
        client.close()
    if found is not None:
        hint = _GITLAB_HINT if found.source == _GITLAB_VARIABLE else own_hint
        return _checked_token(found.value, found.source, hint)
    if env.get("GITHUB_ACTIONS") == "true":
        raise IdentityTokenError(
            "GitHub Actions did not give this job an OIDC token "
            "(ACTIONS_ID_TOKEN_REQUEST_URL/ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set).",
            hint="Add `permissions: id-token: write` to the workflow or job; pull requests "
            "from forks cannot sign.",
        )
    if env.get("GITLAB_CI") == "true":
        raise IdentityTokenError(
            f"GitLab CI did not give this job a Sigstore ID token ({_GITLAB_VARIABLE} is not set).",
            hint=f"Add to the job: `id_tokens: {{{_GITLAB_VARIABLE}: {{aud: sigstore}}}}`.",
        )
    raise IdentityTokenError(
        "No OIDC identity token for Sigstore signing was found.",
        hint=f"Set {TOKEN_ENV} (or {TOKEN_ENV}_FILE) to a token for audience 'sigstore', or "
        "sign in GitHub Actions with `permissions: id-token: write` or in GitLab CI with "
        f"`id_tokens: {_GITLAB_VARIABLE}`.",
    )
