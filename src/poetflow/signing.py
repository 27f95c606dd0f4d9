"""Sigstore signing and verification of built artifacts: bundles, PEP 740 attestations, trust.

The only module that imports ``sigstore`` and ``pypi_attestations``, always inside functions,
so that ``poetflow --help`` and commands that never sign stay light.

Trust: the public-good instance by default, Sigstore's staging instance with
``staging = true``, or a private deployment through a client trust configuration
(``ClientTrustConfig`` JSON: trusted root plus signing config) given by ``--trust-config``,
``POETFLOW_SIGSTORE_TRUST_CONFIG`` or ``[tool.poetflow.signing] trust-config``.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from poetflow.errors import IdentityTokenError, SigningError, SigningSetupError
from poetflow.files import atomic_write_text
from poetflow.masking import register_secret
from poetflow.tables import Table

__all__ = [
    "AUDIENCE",
    "BUNDLE_SUFFIX",
    "SignedArtifact",
    "SigningOptions",
    "SigningSettings",
    "TokenInfo",
    "VerifyResult",
    "VerifyStatus",
    "attestation_path",
    "bundle_path",
    "describe_token",
    "find_bundle",
    "parse_signing",
    "resolve_identity_token",
    "sign_artifacts",
    "signing_options",
    "verify_artifacts",
]

logger = logging.getLogger("poetflow.signing")

AUDIENCE = "sigstore"
BUNDLE_SUFFIX = ".sigstore.json"
# Older sigstore clients wrote ``<file>.sigstore``; consumers still meet those bundles.
_LEGACY_BUNDLE_SUFFIX = ".sigstore"
# The name gh-action-pypi-publish gives its attestations; twine uploads ``<file>.*.attestation``.
_ATTESTATION_SUFFIX = ".publish.attestation"
_CLIENT_TRUST_CONFIG = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"
_TRUSTED_ROOT = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"

_TOKEN_ENV = "POETFLOW_SIGSTORE_IDENTITY_TOKEN"
_TRUST_CONFIG_ENV = "POETFLOW_SIGSTORE_TRUST_CONFIG"

VerifyStatus = Literal["verified", "failed", "missing"]


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


@dataclass(frozen=True)
class SignedArtifact:
    """One signed file: the Sigstore bundle beside it and, for a distribution, its attestation."""

    artifact: Path
    bundle: Path
    attestation: Path | None
    identity: str
    issuer: str


@dataclass(frozen=True)
class VerifyResult:
    """The verdict on one artifact; ``detail`` says why it failed, in one sentence."""

    artifact: Path
    bundle: Path | None
    status: VerifyStatus
    detail: str = ""
    identity: str | None = None
    issuer: str | None = None
    attestation: Path | None = None

    @property
    def ok(self) -> bool:
        return self.status == "verified"


@dataclass(frozen=True)
class TokenInfo:
    """The unverified claims of an identity token that users need to see."""

    issuer: str
    subject: str
    audience: tuple[str, ...]
    expires: int | None


def bundle_path(artifact: Path) -> Path:
    return artifact.with_name(artifact.name + BUNDLE_SUFFIX)


def attestation_path(artifact: Path) -> Path:
    return artifact.with_name(artifact.name + _ATTESTATION_SUFFIX)


def find_bundle(artifact: Path) -> Path | None:
    """The bundle beside ``artifact``: ``<file>.sigstore.json``, else the legacy ``.sigstore``."""
    for suffix in (BUNDLE_SUFFIX, _LEGACY_BUNDLE_SUFFIX):
        candidate = artifact.with_name(artifact.name + suffix)
        if candidate.is_file():
            return candidate
    return None


# --- options ---------------------------------------------------------------------------------


SIGNING_KEYS = ("trust-config", "staging", "attestations", "identity", "issuer", "timeout")


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
    if chosen is None and env.get(_TRUST_CONFIG_ENV):
        chosen = Path(env[_TRUST_CONFIG_ENV])
    if chosen is None and settings.trust_config:
        chosen = Path(settings.trust_config)
        if not chosen.is_absolute() and root is not None:
            chosen = root / chosen
    if chosen is not None and not chosen.is_file():
        raise SigningSetupError(
            f"The Sigstore trust configuration {chosen} does not exist.",
            hint="Point --trust-config, POETFLOW_SIGSTORE_TRUST_CONFIG or [tool.poetflow.signing] "
            "trust-config at the ClientTrustConfig JSON of your Sigstore instance.",
        )
    return SigningOptions(
        trust_config=chosen,
        staging=settings.staging if staging is None else staging,
        offline=offline,
        attestations=settings.attestations if attestations is None else attestations,
        timeout=settings.timeout,
    )


# --- identity tokens -------------------------------------------------------------------------


def _claims(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("not a JWT")
    padded = parts[1] + "=" * (-len(parts[1]) % 4)
    claims = json.loads(base64.urlsafe_b64decode(padded))
    if not isinstance(claims, dict):
        raise ValueError("JWT payload is not an object")
    return claims


def describe_token(token: str) -> TokenInfo:
    """Read (without verifying: the CA does that) who a token speaks for."""
    try:
        claims = _claims(token)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
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


def _github_token(env: Mapping[str, str], timeout: float) -> str:
    import requests

    url = env["ACTIONS_ID_TOKEN_REQUEST_URL"]
    bearer = env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]
    register_secret(bearer)
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "audience"]
    query.append(("audience", AUDIENCE))
    request_url = urlunsplit(parts._replace(query=urlencode(query)))
    try:
        response = requests.get(
            request_url, headers={"Authorization": f"bearer {bearer}"}, timeout=timeout
        )
    except requests.RequestException as exc:
        raise IdentityTokenError(
            f"GitHub's OIDC token endpoint ({parts.netloc}) could not be reached: "
            f"{type(exc).__name__}.",
            hint="Retry the job; GitHub's token service may be briefly unavailable.",
        ) from None
    if response.status_code != 200:
        raise IdentityTokenError(
            f"GitHub refused the OIDC token request for audience {AUDIENCE!r} "
            f"(HTTP {response.status_code}).",
            hint="Give the job `permissions: id-token: write`; pull requests from forks "
            "cannot get one.",
        )
    try:
        value = response.json()["value"]
        if not isinstance(value, str):
            raise TypeError
    except (ValueError, KeyError, TypeError):
        raise IdentityTokenError(
            "GitHub's OIDC token endpoint answered without a token ('value').",
            hint="Retry the job; if it persists, report it to GitHub support.",
        ) from None
    return _checked_token(value, "GitHub Actions", "This is a bug in the token request.")


def resolve_identity_token(
    options: SigningOptions, environ: Mapping[str, str] | None = None
) -> str:
    """The OIDC identity token to sign with, from the first source that has one.

    ``options.identity_token``; ``POETFLOW_SIGSTORE_IDENTITY_TOKEN`` (or ``_FILE``); GitLab's
    ``SIGSTORE_ID_TOKEN`` (an ``id_tokens`` entry with ``aud: sigstore``); GitHub Actions'
    OIDC endpoint (``ACTIONS_ID_TOKEN_REQUEST_URL``/``_TOKEN``, audience ``sigstore``).
    Each missing piece raises :class:`IdentityTokenError` saying how to provide it.
    """
    env = os.environ if environ is None else environ
    if options.identity_token:
        return _checked_token(
            options.identity_token,
            "the signing options",
            "Pass a token issued for audience 'sigstore'.",
        )
    own_hint = f"Request the token for audience {AUDIENCE!r} before setting {_TOKEN_ENV}."
    if env.get(_TOKEN_ENV):
        return _checked_token(env[_TOKEN_ENV], _TOKEN_ENV, own_hint)
    if env.get(f"{_TOKEN_ENV}_FILE"):
        variable = f"{_TOKEN_ENV}_FILE"
        return _checked_token(_read_token_file(env[variable], variable), variable, own_hint)
    if env.get("SIGSTORE_ID_TOKEN"):
        return _checked_token(
            env["SIGSTORE_ID_TOKEN"],
            "SIGSTORE_ID_TOKEN",
            "In .gitlab-ci.yml declare `id_tokens: SIGSTORE_ID_TOKEN: aud: sigstore`.",
        )
    if env.get("ACTIONS_ID_TOKEN_REQUEST_URL") and env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        return _github_token(env, options.timeout)
    if env.get("GITHUB_ACTIONS") == "true":
        raise IdentityTokenError(
            "GitHub Actions did not give this job an OIDC token "
            "(ACTIONS_ID_TOKEN_REQUEST_URL/ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set).",
            hint="Add `permissions: id-token: write` to the workflow or job; pull requests "
            "from forks cannot sign.",
        )
    if env.get("GITLAB_CI") == "true":
        raise IdentityTokenError(
            "GitLab CI did not give this job a Sigstore ID token (SIGSTORE_ID_TOKEN is not set).",
            hint="Add to the job: `id_tokens: {SIGSTORE_ID_TOKEN: {aud: sigstore}}`.",
        )
    raise IdentityTokenError(
        "No OIDC identity token for Sigstore signing was found.",
        hint=f"Set {_TOKEN_ENV} (or {_TOKEN_ENV}_FILE) to a token for audience 'sigstore', or "
        "sign in GitHub Actions with `permissions: id-token: write` or in GitLab CI with "
        "`id_tokens: SIGSTORE_ID_TOKEN`.",
    )


# --- trust -----------------------------------------------------------------------------------


@contextmanager
def _quiet_sigstore() -> Iterator[None]:
    """sigstore warns through the root logger (e.g. about offline TUF); keep that off stderr."""
    sigstore_logger = logging.getLogger("sigstore")
    previous = sigstore_logger.level
    if not logging.getLogger("poetflow").isEnabledFor(logging.DEBUG):
        sigstore_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        sigstore_logger.setLevel(previous)


def _load_trust(options: SigningOptions, *, for_signing: bool) -> Any:
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
        with _quiet_sigstore():
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


# --- signing ---------------------------------------------------------------------------------


@contextmanager
def _http_timeout(seconds: float) -> Iterator[None]:
    """Give every request without a timeout ``seconds`` while the block runs.

    sigstore's Fulcio and Rekor clients send their requests with no timeout at all, so a CA
    or log that accepts the connection and never answers would hang a release job until CI
    kills it. Signing runs alone (uploads start after it), so patching the one method all
    requests sessions go through, for this block only, reaches no one else's requests.
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


def _hashed(path: Path) -> Any:
    """The file's SHA-256 as sigstore's prehashed input: big sdists are streamed, not loaded."""
    import hashlib

    from sigstore.hashes import Hashed
    from sigstore_models.common.v1 import HashAlgorithm

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return Hashed(algorithm=HashAlgorithm.SHA2_256, digest=digest.digest())


def _is_distribution(path: Path) -> bool:
    from poetflow.distributions import parse_distribution_filename

    return parse_distribution_filename(path.name) is not None


def _service_failure(exc: BaseException, options: SigningOptions, artifact: Path) -> SigningError:
    """Name the service that failed and what it said; sigstore's own messages are terse."""
    import requests
    from sigstore._internal.fulcio.client import FulcioClientError
    from sigstore._internal.rekor import RekorClientError

    if isinstance(exc, requests.RequestException):
        request = getattr(exc, "request", None)
        url = urlsplit(getattr(request, "url", "") or "")
        where = f"{url.scheme}://{url.netloc}" if url.netloc else "a Sigstore service"
        return SigningError(
            f"Signing {artifact.name} failed: {where} of {options.instance} could not be "
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
        return SigningError(
            f"The certificate authority of {options.instance} refused to certify the signing "
            f"key for {artifact.name} ({said}).",
            hint=hint,
        )
    if isinstance(exc, RekorClientError):
        return SigningError(
            f"The transparency log of {options.instance} did not record the signature of "
            f"{artifact.name}: {exc}.",
            hint="Check that the transparency log URL in the signing config is reachable.",
        )
    return SigningError(
        f"Signing {artifact.name} with {options.instance} failed: {type(exc).__name__}: {exc}.",
        hint="Rerun with --log-level debug for details.",
    )


def sign_artifacts(
    paths: Sequence[Path], options: SigningOptions, environ: Mapping[str, str] | None = None
) -> tuple[SignedArtifact, ...]:
    """Sign each file with one short-lived certificate; write bundles and attestations beside.

    Every file gets ``<file>.sigstore.json`` (a Sigstore bundle with a hashedrekord entry);
    sdists and wheels also get ``<file>.publish.attestation`` (a PEP 740 attestation, as
    pypi-attestations and gh-action-pypi-publish write it) unless ``options.attestations``
    is off. A failure at the CA or the log raises :class:`SigningError` (exit 1).
    """
    missing = [str(path) for path in paths if not path.is_file()]
    if missing:
        raise SigningSetupError(
            f"Cannot sign {', '.join(missing)}: no such file.",
            hint="Build the artifacts first (poetflow build).",
        )
    raw_token = resolve_identity_token(options, environ)
    trust = _load_trust(options, for_signing=True)

    import requests
    from pypi_attestations import Attestation, AttestationError, Distribution
    from sigstore._internal.fulcio.client import FulcioClientError
    from sigstore._internal.rekor import RekorClientError
    from sigstore.errors import Error as SigstoreError
    from sigstore.oidc import IdentityToken
    from sigstore.sign import SigningContext

    try:
        token = IdentityToken(raw_token, client_id=AUDIENCE)
    except SigstoreError as exc:
        raise IdentityTokenError(
            f"The Sigstore identity token was rejected by the client: {exc}.",
            hint="It needs the claims iss, sub, aud, iat and exp and must not be expired.",
        ) from None
    failures = (
        FulcioClientError,
        RekorClientError,
        SigstoreError,
        AttestationError,
        requests.RequestException,
    )
    signed: list[SignedArtifact] = []
    current = paths[0] if paths else Path()
    try:
        with _quiet_sigstore(), _http_timeout(options.timeout):
            context = SigningContext.from_trust_config(trust)
            with context.signer(token, cache=True) as signer:
                for path in paths:
                    current = path
                    bundle = signer.sign_artifact(_hashed(path))
                    bundle_file = bundle_path(path)
                    atomic_write_text(bundle_file, bundle.to_json())
                    attestation_file: Path | None = None
                    if options.attestations and _is_distribution(path):
                        attestation = Attestation.sign(signer, Distribution.from_file(path))
                        attestation_file = attestation_path(path)
                        atomic_write_text(attestation_file, attestation.model_dump_json())
                    # Who the CA certified (e.g. an e-mail SAN), not the token's raw subject.
                    certified, certified_issuer = _certificate_identity(bundle.signing_certificate)
                    logger.debug("signed %s as %s", path.name, certified)
                    signed.append(
                        SignedArtifact(
                            artifact=path,
                            bundle=bundle_file,
                            attestation=attestation_file,
                            identity=certified or token.identity,
                            issuer=certified_issuer or token.issuer,
                        )
                    )
    except failures as exc:
        raise _service_failure(exc, options, current) from exc
    return tuple(signed)


# --- verification ----------------------------------------------------------------------------


def _certificate_identity(certificate: Any) -> tuple[str, str | None]:
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
            x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
        ).value.value
        issuer = raw.decode("utf-8", "replace")
    except x509.ExtensionNotFound:
        pass
    return ", ".join(names), issuer


def _explain(message: str, identity: str, issuer: str, actual: tuple[str, str | None]) -> str:
    signer, signer_issuer = actual
    if "OIDCIssuer" in message:
        return (
            f"wrong issuer: the certificate was issued for an identity from {signer_issuer}, "
            f"not from the expected issuer {issuer}"
        )
    if "SANs do not match" in message:
        return f"wrong identity: it was signed by {signer or 'an unnamed identity'}, not {identity}"
    if "digest mismatch" in message or "invalid for input" in message:
        return "the artifact does not match its signature: it was modified after signing"
    if "inconsistent with other materials" in message:
        return "the transparency log entry does not match this artifact or signature"
    return message.rstrip(".")


def _verify_attestation(
    verifier: Any,
    policy: Any,
    artifact: Path,
    attestation_file: Path,
    expected: tuple[str, str],
) -> str | None:
    """Check a PEP 740 attestation against the same trust root; None when it holds."""
    from pypi_attestations import Attestation, AttestationError, Distribution
    from sigstore.errors import Error as SigstoreError

    attestation: Any = None
    try:
        attestation = Attestation.model_validate_json(attestation_file.read_bytes())
        _type, payload = verifier.verify_dsse(attestation.to_bundle(), policy)
        statement = json.loads(payload)
        subjects = statement.get("subject", [])
        dist = Distribution.from_file(artifact)
        if len(subjects) != 1 or subjects[0].get("name") != dist.name:
            return f"attestation {attestation_file.name} is for another file"
        if subjects[0].get("digest", {}).get("sha256") != dist.digest:
            return (
                f"attestation {attestation_file.name} does not match the artifact: "
                "it was modified after signing"
            )
    except (SigstoreError, AttestationError, ValueError, OSError) as exc:
        actual: tuple[str, str | None] = ("", None)
        if attestation is not None:
            with contextlib.suppress(Exception):
                actual = _certificate_identity(attestation.to_bundle().signing_certificate)
        reason = _explain(str(exc), expected[0], expected[1], actual)
        return f"attestation {attestation_file.name}: {reason}"
    return None


def verify_artifacts(
    paths: Sequence[Path], identity: str, issuer: str, options: SigningOptions
) -> tuple[VerifyResult, ...]:
    """Verify each file against the bundle beside it (and its attestation, if any).

    ``identity`` is the expected certificate SAN (a workflow URI or an e-mail address),
    ``issuer`` the expected OIDC issuer URL. Verification of the public-good or staging
    instance works without network with ``options.offline``; a private instance's trust
    configuration is a local file, so it always does. A bad signature is a result, not an
    exception: the caller decides the exit code.
    """
    if not identity or not issuer:
        raise SigningSetupError(
            "Verification needs the expected signer identity and OIDC issuer.",
            hint="Pass --identity and --issuer (or set identity and issuer in "
            "[tool.poetflow.signing]).",
        )
    trusted_root = _load_trust(options, for_signing=False)

    from sigstore.errors import Error as SigstoreError
    from sigstore.models import Bundle
    from sigstore.verify import Verifier
    from sigstore.verify.policy import Identity

    with _quiet_sigstore():
        verifier = Verifier(trusted_root=trusted_root)
    policy = Identity(identity=identity, issuer=issuer)
    results: list[VerifyResult] = []
    for path in paths:
        bundle_file = find_bundle(path)
        if not path.is_file():
            results.append(
                VerifyResult(path, bundle_file, "missing", "the artifact does not exist")
            )
            continue
        if bundle_file is None:
            results.append(
                VerifyResult(
                    path, None, "missing", f"no {path.name}{BUNDLE_SUFFIX} beside it: sign it first"
                )
            )
            continue
        actual: tuple[str, str | None] = ("", None)
        try:
            bundle = Bundle.from_json(bundle_file.read_bytes())
            actual = _certificate_identity(bundle.signing_certificate)
            with _quiet_sigstore():
                verifier.verify_artifact(_hashed(path), bundle, policy)
        except (SigstoreError, ValueError, OSError) as exc:
            results.append(
                VerifyResult(
                    path,
                    bundle_file,
                    "failed",
                    _explain(str(exc), identity, issuer, actual),
                    identity=actual[0] or None,
                    issuer=actual[1],
                )
            )
            continue
        attestation_file = attestation_path(path)
        problem = None
        if attestation_file.is_file():
            with _quiet_sigstore():
                problem = _verify_attestation(
                    verifier, policy, path, attestation_file, (identity, issuer)
                )
        results.append(
            VerifyResult(
                path,
                bundle_file,
                "failed" if problem else "verified",
                problem or "",
                identity=actual[0] or None,
                issuer=actual[1],
                attestation=attestation_file if attestation_file.is_file() else None,
            )
        )
    return tuple(results)
