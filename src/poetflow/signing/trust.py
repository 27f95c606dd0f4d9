"""Trust in a Sigstore instance: its trust root and signing config, and who a certificate names.

The public-good instance by default, Sigstore's staging instance with ``staging = true``,
or a private deployment through a client trust configuration (``ClientTrustConfig`` JSON:
trusted root plus signing config) given by ``--trust-config``,
``POETFLOW_SIGSTORE_TRUST_CONFIG`` or ``[tool.poetflow.signing] trust-config``. sigstore is
imported inside the functions: only commands that sign or verify pay for it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from poetflow.errors import SigningSetupError
from poetflow.signing.options import SigningOptions

__all__ = ["certificate_identity", "load_trust", "quiet_sigstore"]

_CLIENT_TRUST_CONFIG = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
_TRUSTED_ROOT = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
# The Fulcio certificate extension naming the OIDC issuer.
_ISSUER_OID = "1.3.6.1.4.1.57264.1.1"


@contextmanager
def quiet_sigstore() -> Iterator[None]:
    """sigstore warns through the root logger (e.g. about offline TUF); keep that off stderr."""
    sigstore_logger = logging.getLogger("sigstore")
    previous = sigstore_logger.level
    if not logging.getLogger("poetflow").isEnabledFor(logging.DEBUG):
        sigstore_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        sigstore_logger.setLevel(previous)


def load_trust(options: SigningOptions, *, for_signing: bool) -> Any:
    """A ClientTrustConfig for signing, or a TrustedRoot for verifying."""
    from sigstore.errors import Error as SigstoreError
    from sigstore.models import ClientTrustConfig, TrustedRoot

    if options.trust_config is not None:
        path = options.trust_config
        try:
            raw = path.read_text(encoding="utf-8")
            media_type = json.loads(raw).get("mediaType")
        except (OSError, ValueError, AttributeError) as exc:
            raise SigningSetupError(
                f"The Sigstore trust configuration {path} cannot be read as JSON: {exc}."
            ) from None
        try:
            if media_type == _CLIENT_TRUST_CONFIG:
                config = ClientTrustConfig.from_json(raw)
                if for_signing:
                    config.signing_config  # noqa: B018 - validates the service URLs now
                    return config
                return config.trusted_root
            if media_type == _TRUSTED_ROOT and not for_signing:
                return TrustedRoot.from_file(str(path))
        except (SigstoreError, ValueError) as exc:
            raise SigningSetupError(
                f"The Sigstore trust configuration {path} is invalid: {exc}."
            ) from None
        wanted = "a ClientTrustConfig" if for_signing else "a ClientTrustConfig or trusted root"
        raise SigningSetupError(
            f"{path} is not {wanted} (its mediaType is {media_type!r}).",
            hint=f"Signing needs mediaType {_CLIENT_TRUST_CONFIG!r}: a trusted root plus a "
            "signing config naming the CA and transparency log URLs.",
        )
    offline = options.offline and not for_signing
    try:
        with quiet_sigstore():
            config = (
                ClientTrustConfig.staging(offline=offline)
                if options.staging
                else ClientTrustConfig.production(offline=offline)
            )
            return config if for_signing else config.trusted_root
    except SigstoreError as exc:
        raise SigningSetupError(
            f"The trust root of {options.instance} could not be refreshed over TUF: {exc}.",
            hint="Check the network access to tuf-repo-cdn.sigstore.dev, or verify with "
            "--offline (the trust root shipped with sigstore).",
        ) from None


def certificate_identity(certificate: Any) -> tuple[str, str | None]:
    """The SANs and the OIDC issuer a Fulcio certificate was issued for."""
    from cryptography import x509

    try:
        sans = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = [str(name.value) for name in sans if not isinstance(name, x509.OtherName)]
    except x509.ExtensionNotFound:
        names = []
    issuer: str | None = None
    try:
        raw = certificate.extensions.get_extension_for_oid(
            x509.ObjectIdentifier(_ISSUER_OID)
        ).value.value
        issuer = raw.decode("utf-8", "replace")
    except x509.ExtensionNotFound:
        pass
    return ", ".join(names), issuer
