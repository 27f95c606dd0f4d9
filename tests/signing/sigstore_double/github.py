"""GitHub Actions' OIDC token request endpoint: bearer-authenticated, audience as a parameter."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from .service import Reply, Request, Service, json_reply

__all__ = ["GitHubOidcEndpoint"]


class GitHubOidcEndpoint:
    """Answers ``GET /token?api-version=2.0&audience=A`` with ``{"value": <id token for A>}``.

    ``mint(audience)`` makes the token; only ``Authorization: bearer <request_token>`` is let in.
    """

    def __init__(self, mint: Callable[[str], str], request_token: str) -> None:
        self._mint = mint
        self.request_token = request_token
        self.audiences: list[str] = []
        self._service = Service(self._handle)
        self.request_url = f"{self._service.url}/token?api-version=2.0"

    def _handle(self, request: Request) -> Reply:
        if (
            request.headers.get("authorization", "").lower()
            != f"bearer {self.request_token}".lower()
        ):
            return json_reply(401, {"message": "Bad credentials"})
        query = parse_qs(urlsplit(request.path).query)
        audience = query.get("audience", [""])[0]
        self.audiences.append(audience)
        if not audience:
            # GitHub's default audience is the repository owner URL, useless for Sigstore.
            audience = "https://github.com/acme"
        return json_reply(200, {"count": 1, "value": self._mint(audience)})

    def stop(self) -> None:
        self._service.stop()
