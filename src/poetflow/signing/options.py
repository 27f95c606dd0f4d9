"""Signing settings: ``[tool.poetflow.signing]`` as written, and the options a run signs with.

Loaded by every command (the configuration parses the section), so it imports nothing
heavier than the standard library.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from poetflow.errors import SigningSetupError
from poetflow.tables import Table

__all__ = [
    "SIGNING_KEYS",
    "TRUST_CONFIG_ENV",
    "SigningOptions",
    "SigningSettings",
    "parse_signing",
    "signing_options",
]

SIGNING_KEYS = ("trust-config", "staging", "attestations", "identity", "issuer", "timeout")
TRUST_CONFIG_ENV = "POETFLOW_SIGSTORE_TRUST_CONFIG"


@dataclass(frozen=True)
class SigningSettings:
    """``[tool.poetflow.signing]`` as written (a relative ``trust_config`` is relative to the
    monorepo root); :func:`signing_options` merges it with the environment and the CLI."""

    trust_config: str | None = None
    staging: bool = False
    attestations: bool = True
    identity: str | None = None
    issuer: str | None = None
    timeout: float = 30.0


def parse_signing(table: Table) -> SigningSettings:
    table.only(SIGNING_KEYS)
    configured = table.data.get("trust-config")
    if configured is not None and not isinstance(configured, str):
        raise table.error("trust-config", f"must be a path string, not {configured!r}.")
    return SigningSettings(
        trust_config=configured,
        staging=table.boolean("staging", False),
        attestations=table.boolean("attestations", True),
        identity=table.string("identity", None, example='"https://github.com/org/repo/..."'),
        issuer=table.string(
            "issuer", None, example='"https://token.actions.githubusercontent.com"'
        ),
        timeout=table.number("timeout", 30.0),
    )


@dataclass(frozen=True)
class SigningOptions:
    """Where to sign and verify: the Sigstore instance, and how to reach it.

    ``trust_config`` is a ClientTrustConfig JSON (or, for verification only, a trusted root)
    of a private instance; without it ``staging`` picks Sigstore's staging instance, else the
    public-good one. ``offline`` verifies with the trust root embedded in sigstore (or cached
    by an earlier online run) instead of refreshing it over TUF. ``identity_token`` overrides
    the ambient credential lookup (it never comes from argv).
    """

    trust_config: Path | None = None
    staging: bool = False
    offline: bool = False
    attestations: bool = True
    identity_token: str | None = field(default=None, repr=False)
    timeout: float = 30.0

    @property
    def instance(self) -> str:
        """The instance in words, for messages."""
        if self.trust_config is not None:
            return f"the Sigstore instance of {self.trust_config}"
        return "Sigstore's staging instance" if self.staging else "the public-good Sigstore"


def signing_options(
    settings: SigningSettings | None = None,
    *,
    root: Path | None = None,
    trust_config: Path | None = None,
    staging: bool | None = None,
    offline: bool = False,
    attestations: bool | None = None,
    environ: Mapping[str, str] | None = None,
) -> SigningOptions:
    """Merge ``[tool.poetflow.signing]`` (``settings``), the environment and the command line.

    The command line wins over ``POETFLOW_SIGSTORE_TRUST_CONFIG``, which wins over the
    file; a relative ``trust-config`` in the file is relative to the monorepo ``root``.
    """
    settings = settings or SigningSettings()
    env = os.environ if environ is None else environ
    chosen: Path | None = trust_config
    if chosen is None and env.get(TRUST_CONFIG_ENV):
        chosen = Path(env[TRUST_CONFIG_ENV])
    if chosen is None and settings.trust_config:
        chosen = Path(settings.trust_config)
        if not chosen.is_absolute() and root is not None:
            chosen = root / chosen
    if chosen is not None and not chosen.is_file():
        raise SigningSetupError(
            f"The Sigstore trust configuration {chosen} does not exist.",
            hint=f"Point --trust-config, {TRUST_CONFIG_ENV} or [tool.poetflow.signing] "
            "trust-config at the ClientTrustConfig JSON of your Sigstore instance.",
        )
    return SigningOptions(
        trust_config=chosen,
        staging=settings.staging if staging is None else staging,
        offline=offline,
        attestations=settings.attestations if attestations is None else attestations,
        timeout=settings.timeout,
    )
