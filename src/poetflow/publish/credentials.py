"""Upload credentials: PoetFlow's variables, Poetry's, ``*_FILE`` files, and what ``poetry
config`` stored (``auth.toml``, the system keyring: :mod:`poetflow.publish.poetry_auth`).

Every value read here is registered with :mod:`poetflow.masking` before anything else
happens, so no log line, error, report or summary can show it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from poetflow.errors import MissingCredentialsError, PublishError
from poetflow.masking import register_environment_secrets, register_secret
from poetflow.publish.repositories import Repository, env_key

__all__ = [
    "TOKEN_USERNAME",
    "Credentials",
    "TrustedPublishing",
    "credential_variables",
    "resolve_credentials",
]

TOKEN_USERNAME = "__token__"


@dataclass(frozen=True)
class Credentials:
    """A username and password (``__token__`` and the token for API tokens)."""

    username: str
    password: str = field(repr=False)
    source: str

    @property
    def auth(self) -> tuple[str, str]:
        return (self.username, self.password)


@dataclass(frozen=True)
class TrustedPublishing:
    """No stored secret: an OIDC identity from the CI is exchanged for an upload token."""

    provider: Literal["github", "gitlab"]
    source: str


def _read(env: Mapping[str, str], name: str) -> str | None:
    """The value of ``name``, or the content of the file ``name_FILE`` points at."""
    value = env.get(name)
    if value:
        return value
    file_name = env.get(f"{name}_FILE")
    if not file_name:
        return None
    try:
        content = Path(file_name).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise PublishError(
            f"{name}_FILE points at {file_name}, which cannot be read ({exc.strerror}).",
            hint="Mount the secret file there or unset the variable.",
        ) from None
    register_secret(content)
    return content or None


def credential_variables(repository: Repository) -> list[str]:
    """The variables (or variable pairs) that would give credentials for ``repository``."""
    key = env_key(repository.name)
    return [
        f"POETFLOW_REPOSITORY_{key}_TOKEN",
        f"POETFLOW_REPOSITORY_{key}_USERNAME and POETFLOW_REPOSITORY_{key}_PASSWORD",
        f"POETRY_PYPI_TOKEN_{key}",
        f"POETRY_HTTP_BASIC_{key}_USERNAME and POETRY_HTTP_BASIC_{key}_PASSWORD",
        "POETFLOW_TOKEN",
    ]


def _pair(env: Mapping[str, str], prefix: str) -> Credentials | None:
    username = _read(env, f"{prefix}_USERNAME")
    password = _read(env, f"{prefix}_PASSWORD")
    if username and password:
        return Credentials(username, password, f"{prefix}_USERNAME/_PASSWORD")
    if username or password:
        present, missing = ("USERNAME", "PASSWORD") if username else ("PASSWORD", "USERNAME")
        raise MissingCredentialsError(
            f"{prefix}_{present} is set but {prefix}_{missing} is not.",
            hint=f"Set {prefix}_{missing} (or {prefix}_{missing}_FILE) too.",
        )
    return None


def resolve_credentials(
    repository: Repository, env: Mapping[str, str] | None = None
) -> Credentials | TrustedPublishing:
    """The first credentials found for ``repository``, most specific first; else trusted
    publishing when the CI offers an OIDC identity; else MissingCredentialsError (exit 2)."""
    env = os.environ if env is None else env
    register_environment_secrets(env)
    key = env_key(repository.name)
    token = _read(env, f"POETFLOW_REPOSITORY_{key}_TOKEN")
    if token:
        return Credentials(TOKEN_USERNAME, token, f"POETFLOW_REPOSITORY_{key}_TOKEN")
    found = _pair(env, f"POETFLOW_REPOSITORY_{key}")
    if found:
        return found
    token = _read(env, f"POETRY_PYPI_TOKEN_{key}")
    if token:
        return Credentials(TOKEN_USERNAME, token, f"POETRY_PYPI_TOKEN_{key}")
    found = _pair(env, f"POETRY_HTTP_BASIC_{key}")
    if found:
        return found
    # What `poetry config` stored for this very repository beats the catch-all token, so
    # a token meant for one index is never sent to another.
    from poetflow.publish.poetry_auth import stored_credentials

    stored = stored_credentials(repository.name, env)
    if stored is not None:
        return Credentials(stored.username, stored.password, stored.source)
    token = _read(env, "POETFLOW_TOKEN")
    if token:
        return Credentials(TOKEN_USERNAME, token, "POETFLOW_TOKEN")
    if env.get("ACTIONS_ID_TOKEN_REQUEST_URL") and env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        return TrustedPublishing("github", "ACTIONS_ID_TOKEN_REQUEST_URL")
    for name in ("POETFLOW_ID_TOKEN", "PYPI_ID_TOKEN"):
        if env.get(name):
            return TrustedPublishing("gitlab", name)
    choices = ", or ".join(credential_variables(repository))
    hint = "Each variable also works as NAME_FILE pointing at a file holding the secret."
    if env.get("GITHUB_ACTIONS") == "true":
        hint += (
            " For trusted publishing instead, give the job `permissions: id-token: write` "
            "and register this workflow as a trusted publisher on the index."
        )
    elif env.get("GITLAB_CI") == "true":
        hint += (
            " For trusted publishing instead, declare `id_tokens: PYPI_ID_TOKEN: aud: pypi` "
            "in the job and register it as a trusted publisher on the index."
        )
    raise MissingCredentialsError(
        f"No credentials for repository {repository.name!r}: set {choices}, or store them "
        f"with `poetry config pypi-token.{repository.name} TOKEN`.",
        hint=hint,
    )
