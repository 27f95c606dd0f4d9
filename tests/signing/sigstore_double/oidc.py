"""An OIDC identity provider: discovery document, JWKS, and ES256 ID tokens it mints."""

from __future__ import annotations

import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from .jwt import b64url, sign_es256
from .service import Reply, Request, Service, json_reply

__all__ = ["OidcIssuer"]


class OidcIssuer:
    """Publishes ``/.well-known/openid-configuration`` and ``/jwks`` like any OIDC provider."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.kid = "double-key-1"
        self._service = Service(self._handle)
        self.url = self._service.url

    def token(
        self,
        subject: str = "https://github.com/acme/demo/.github/workflows/release.yml@refs/heads/main",
        *,
        audience: str | list[str] = "sigstore",
        lifetime: int = 300,
        email: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url,
            "sub": subject,
            "aud": audience,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
        }
        if email is not None:
            claims.update(email=email, email_verified=True)
        claims.update(extra or {})
        return sign_es256(self._key, self.kid, claims)

    def _jwk(self) -> dict[str, str]:
        numbers = self._key.public_key().public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "alg": "ES256",
            "use": "sig",
            "kid": self.kid,
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
        }

    def _handle(self, request: Request) -> Reply:
        if request.path == "/.well-known/openid-configuration":
            return json_reply(
                200,
                {
                    "issuer": self.url,
                    "jwks_uri": f"{self.url}/jwks",
                    "authorization_endpoint": f"{self.url}/auth",
                    "token_endpoint": f"{self.url}/token",
                    "id_token_signing_alg_values_supported": ["ES256"],
                    "response_types_supported": ["id_token"],
                    "subject_types_supported": ["public"],
                },
            )
        if request.path == "/jwks":
            return json_reply(200, {"keys": [self._jwk()]})
        return json_reply(404, {"error": "not found"})

    def stop(self) -> None:
        self._service.stop()
