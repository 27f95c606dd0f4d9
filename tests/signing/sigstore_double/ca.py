"""A Fulcio-like CA: short-lived code-signing certificates for a CSR and an OIDC token.

Speaks Fulcio's ``POST /api/v2/signingCert``: the identity token in the Authorization header
(or in ``credentials.oidcIdentityToken``), a PEM CSR proving possession of the key; answers
``signedCertificateEmbeddedSct.chain`` with the leaf (carrying an embedded SCT from the CT
log) and the root. Tokens are verified against the issuer's published JWKS.
"""

from __future__ import annotations

import base64
import datetime
import json
import urllib.request
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .ctlog import CtLog
from .jwt import b64url_decode, decode_unverified, verify_es256
from .service import Reply, Request, Service, json_reply

__all__ = ["CertificateAuthority"]

_ISSUER_V1 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
_ISSUER_V2 = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
_SCT_LIST = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")
CERT_LIFETIME = datetime.timedelta(minutes=10)


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class CertificateAuthority:
    """Root CA plus CT log; ``trusted_issuers`` are the OIDC issuer URLs it accepts."""

    def __init__(self, trusted_issuers: list[str], ctlog: CtLog) -> None:
        self.trusted_issuers = list(trusted_issuers)
        self.ctlog = ctlog
        self.key = ec.generate_private_key(ec.SECP384R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "poetflow.test"),
                x509.NameAttribute(NameOID.COMMON_NAME, "sigstore-double-root"),
            ]
        )
        public = self.key.public_key()
        self.root = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .sign(self.key, hashes.SHA384())
        )
        self._service = Service(self._handle)
        self.url = self._service.url
        self.issued: list[x509.Certificate] = []

    def stop(self) -> None:
        self._service.stop()

    # -- token checks, the way Fulcio does them: issuer allow-list, JWKS signature, audience.
    def _claims(self, token: str) -> dict[str, Any]:
        try:
            header, claims = decode_unverified(token)
        except ValueError:
            raise _Refused(401, "the identity token is not a JWT") from None
        issuer = claims.get("iss")
        if issuer not in self.trusted_issuers:
            raise _Refused(401, f"untrusted OIDC issuer {issuer!r}")
        with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration") as response:
            jwks_uri = json.load(response)["jwks_uri"]
        with urllib.request.urlopen(jwks_uri) as response:
            keys = json.load(response)["keys"]
        key = next((k for k in keys if k.get("kid") == header.get("kid")), None)
        if key is None or header.get("alg") != "ES256":
            raise _Refused(401, "the identity token is signed by an unknown key")
        public = ec.EllipticCurvePublicNumbers(
            int.from_bytes(b64url_decode(key["x"]), "big"),
            int.from_bytes(b64url_decode(key["y"]), "big"),
            ec.SECP256R1(),
        ).public_key()
        if not verify_es256(public, token):
            raise _Refused(401, "the identity token signature is invalid")
        audience = claims.get("aud")
        audiences = [audience] if isinstance(audience, str) else list(audience or [])
        if "sigstore" not in audiences:
            raise _Refused(401, "the identity token is not for audience 'sigstore'")
        now = datetime.datetime.now(datetime.timezone.utc).timestamp()
        if not claims.get("exp") or claims["exp"] <= now:
            raise _Refused(401, "the identity token has expired")
        return claims

    @staticmethod
    def _subject_name(claims: dict[str, Any]) -> x509.GeneralName:
        if claims.get("email"):
            if not claims.get("email_verified"):
                raise _Refused(400, "email is not verified")
            return x509.RFC822Name(claims["email"])
        if claims.get("job_workflow_ref"):
            return x509.UniformResourceIdentifier(
                f"https://github.com/{claims['job_workflow_ref']}"
            )
        subject = str(claims.get("sub", ""))
        if "://" not in subject:
            raise _Refused(400, "the token's subject is neither an e-mail nor a URI")
        return x509.UniformResourceIdentifier(subject)

    def issue(
        self, csr: x509.CertificateSigningRequest, claims: dict[str, Any]
    ) -> x509.Certificate:
        if not csr.is_signature_valid:
            raise _Refused(400, "the CSR signature does not prove possession of the key")
        public = csr.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise _Refused(400, "only ECDSA keys are supported")
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        issuer_url = str(claims["iss"]).encode()
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.root.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + CERT_LIFETIME)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .add_extension(x509.SubjectAlternativeName([self._subject_name(claims)]), critical=True)
            .add_extension(x509.UnrecognizedExtension(_ISSUER_V1, issuer_url), critical=False)
            .add_extension(
                x509.UnrecognizedExtension(_ISSUER_V2, _der(0x0C, issuer_url)), critical=False
            )
        )
        # The precertificate is the same TBS without the SCT list: the CT log signs that,
        # then the final certificate carries the SCT.
        precertificate = builder.sign(self.key, hashes.SHA384())
        scts = self.ctlog.sct_list(precertificate.tbs_certificate_bytes, self.key.public_key())
        certificate = builder.add_extension(
            x509.UnrecognizedExtension(_SCT_LIST, _der(0x04, scts)), critical=False
        ).sign(self.key, hashes.SHA384())
        assert certificate.tbs_precertificate_bytes == precertificate.tbs_certificate_bytes
        self.issued.append(certificate)
        return certificate

    def _handle(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != "/api/v2/signingCert":
            return json_reply(404, {"code": 404, "message": "not found"})
        try:
            body = request.json()
            auth = request.headers.get("authorization", "")
            token = auth[7:] if auth.lower().startswith("bearer ") else ""
            token = token or body.get("credentials", {}).get("oidcIdentityToken", "")
            if not token:
                raise _Refused(401, "no identity token")
            claims = self._claims(token)
            pem = base64.b64decode(body["certificateSigningRequest"])
            csr = x509.load_pem_x509_csr(pem)
            certificate = self.issue(csr, claims)
        except _Refused as refused:
            return json_reply(refused.status, {"code": refused.status, "message": str(refused)})
        except (KeyError, ValueError) as exc:
            return json_reply(400, {"code": 400, "message": f"bad request: {exc}"})
        chain = [
            cert.public_bytes(serialization.Encoding.PEM).decode()
            for cert in (certificate, self.root)
        ]
        return json_reply(201, {"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}})
