"""Signing files with Sigstore: one short-lived certificate, a bundle and attestation per file.

The only place (with :mod:`poetflow.signing.verify`) that imports ``sigstore`` and
``pypi_attestations``, inside the functions, so that commands that never sign stay light.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from poetflow.errors import IdentityTokenError, SigningError, SigningSetupError
from poetflow.files import atomic_write_text
from poetflow.signing.artifacts import attestation_path, bundle_path, hashed, is_distribution
from poetflow.signing.options import SigningOptions
from poetflow.signing.results import SignedArtifact
from poetflow.signing.tokens import AUDIENCE, resolve_identity_token
from poetflow.signing.trust import certificate_identity, load_trust, quiet_sigstore

__all__ = ["SigningSession", "check_signable", "sign_artifacts", "signing_session"]

logger = logging.getLogger("poetflow.signing")


@contextmanager
def _http_timeout(seconds: float) -> Iterator[None]:
    """Give every request without a timeout ``seconds`` while the block runs.

    sigstore's Fulcio and Rekor clients send their requests with no timeout at all, so a CA
    or log that accepts the connection and never answers would hang a release job until CI
    kills it. PoetFlow's own requests always carry a timeout, so patching the one method all
    requests sessions go through, for this block only, changes nothing else.
    """
    import requests

    original = requests.Session.request

    def request(self: requests.Session, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        # timeout is request()'s 7th parameter after the URL; sigstore passes keywords only.
        if len(args) < 7 and kwargs.get("timeout") is None:
            kwargs["timeout"] = seconds
        return original(self, method, url, *args, **kwargs)

    requests.Session.request = request  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        requests.Session.request = original  # type: ignore[method-assign]


def _service_failure(
    exc: BaseException, options: SigningOptions, artifact: Path | None
) -> SigningError:
    """Name the service that failed and what it said; sigstore's own messages are terse.

    ``artifact`` is the file being signed (None: the certificate, before any file)."""
    import requests
    from sigstore._internal.fulcio.client import FulcioClientError
    from sigstore._internal.rekor import RekorClientError

    if isinstance(exc, requests.RequestException):
        request = getattr(exc, "request", None)
        url = urlsplit(getattr(request, "url", "") or "")
        where = f"{url.scheme}://{url.netloc}" if url.netloc else "a Sigstore service"
        what = f"Signing {artifact.name}" if artifact else "Requesting the signing certificate"
        return SigningError(
            f"{what} failed: {where} of {options.instance} could not be "
            f"reached ({type(exc).__name__}).",
            hint="Check the network and the service URLs in the signing config, then rerun.",
        )
    cause = exc.__cause__
    status = getattr(getattr(cause, "response", None), "status_code", None)
    if isinstance(exc, FulcioClientError):
        said = f"HTTP {status}" if status else (str(exc) or type(cause).__name__)
        hint = (
            "The CA did not accept the identity token: check that the instance trusts its "
            "issuer and that the token is fresh."
            if status in (400, 401, 403)
            else "Check that the CA URL in the signing config is reachable."
        )
        key = f"the signing key for {artifact.name}" if artifact else "the signing key"
        return SigningError(
            f"The certificate authority of {options.instance} refused to certify {key} ({said}).",
            hint=hint,
        )
    name = artifact.name if artifact else "the signing key"
    if isinstance(exc, RekorClientError):
        return SigningError(
            f"The transparency log of {options.instance} did not record the signature of "
            f"{name}: {exc}.",
            hint="Check that the transparency log URL in the signing config is reachable.",
        )
    return SigningError(
        f"Signing {name} with {options.instance} failed: {type(exc).__name__}: {exc}.",
        hint="Rerun with --log-level debug for details.",
    )


def _failures() -> tuple[type[BaseException], ...]:
    import requests
    from pypi_attestations import AttestationError
    from sigstore._internal.fulcio.client import FulcioClientError
    from sigstore._internal.rekor import RekorClientError
    from sigstore.errors import Error as SigstoreError

    return (
        FulcioClientError,
        RekorClientError,
        SigstoreError,
        AttestationError,
        requests.RequestException,
    )


def check_signable(paths: Sequence[Path]) -> None:
    """Every file exists; else SigningSetupError (exit 2) before anything is signed."""
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise SigningSetupError(
            f"Cannot sign {', '.join(missing)}: no such file.",
            hint="Build the artifacts first (poetflow build).",
        )


class SigningSession:
    """A signer holding one certificate: :meth:`sign` is safe from several threads
    (sigstore's transparency-log client keeps one HTTP session per thread)."""

    def __init__(self, signer: Any, token: Any, options: SigningOptions) -> None:
        self._signer = signer
        self._token = token
        self.options = options

    def sign(self, path: Path) -> SignedArtifact:
        """Write ``<file>.sigstore.json`` (a bundle with a hashedrekord entry) and, for an
        sdist or wheel, ``<file>.publish.attestation`` (PEP 740, as pypi-attestations and
        gh-action-pypi-publish write it) unless attestations are off. A failure at the CA
        or the log raises :class:`SigningError` (exit 1)."""
        from pypi_attestations import Attestation, Distribution

        try:
            bundle = self._signer.sign_artifact(hashed(path))
            bundle_file = bundle_path(path)
            atomic_write_text(bundle_file, bundle.to_json())
            attestation_file: Path | None = None
            if self.options.attestations and is_distribution(path):
                attestation = Attestation.sign(self._signer, Distribution.from_file(path))
                attestation_file = attestation_path(path)
                atomic_write_text(attestation_file, attestation.model_dump_json())
        except _failures() as exc:
            raise _service_failure(exc, self.options, path) from exc
        # Who the CA certified (e.g. an e-mail SAN), not the token's raw subject.
        certified, certified_issuer = certificate_identity(bundle.signing_certificate)
        logger.debug("signed %s as %s", path.name, certified)
        return SignedArtifact(
            artifact=path,
            bundle=bundle_file,
            attestation=attestation_file,
            identity=certified or self._token.identity,
            issuer=certified_issuer or self._token.issuer,
        )


@contextmanager
def signing_session(
    options: SigningOptions,
    environ: Mapping[str, str] | None = None,
    *,
    token: str | None = None,
    trust: Any = None,
) -> Iterator[SigningSession]:
    """Resolve the identity token, get one certificate, and sign with it inside the block.

    ``token`` and ``trust`` (from :func:`resolve_identity_token` / ``load_trust``) when the
    caller checked them already. Bad input (no token, a bad trust configuration) raises
    exit-2 errors; a CA that refuses raises :class:`SigningError`.
    """
    raw_token = token or resolve_identity_token(options, environ)
    trust = trust if trust is not None else load_trust(options, for_signing=True)

    from sigstore.errors import Error as SigstoreError
    from sigstore.oidc import IdentityToken
    from sigstore.sign import SigningContext

    try:
        identity = IdentityToken(raw_token, client_id=AUDIENCE)
    except SigstoreError as exc:
        raise IdentityTokenError(
            f"The Sigstore identity token was rejected by the client: {exc}.",
            hint="It needs the claims iss, sub, aud, iat and exp and must not be expired.",
        ) from None
    with quiet_sigstore(), _http_timeout(options.timeout):
        try:
            context = SigningContext.from_trust_config(trust)
            signer_context = context.signer(identity, cache=True)
            # The certificate is requested here, once for every file of the session.
            signer = signer_context.__enter__()
        except _failures() as exc:
            raise _service_failure(exc, options, None) from exc
        try:
            yield SigningSession(signer, identity, options)
        finally:
            signer_context.__exit__(None, None, None)


def sign_artifacts(
    paths: Sequence[Path], options: SigningOptions, environ: Mapping[str, str] | None = None
) -> tuple[SignedArtifact, ...]:
    """Sign each file with one short-lived certificate; write bundles and attestations beside."""
    check_signable(paths)
    with signing_session(options, environ) as session:
        return tuple(session.sign(path) for path in paths)
