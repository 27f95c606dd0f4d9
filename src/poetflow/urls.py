"""Index URLs as settings: what makes one valid, and the password a URL may carry.

A URL can hold a credential in its userinfo (``https://user:PASSWORD@host/``): the CLI
registers that password as a secret before anything runs, so the URL prints everywhere as
``https://user:***@host/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

__all__ = ["url_passwords", "url_problem"]

_SCHEMES = ("http", "https")
# Where a URL with userinfo may appear in a command line or an environment value.
# Greedy up to the last "@" of the authority, as urlsplit reads it (a password may hold "@").
_USERINFO_RE = re.compile(r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://([^/?#\s]*)@")


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an index URL (absolute http or https with a host), or None."""
    if any(ord(char) < 33 for char in url):
        return "it contains a space or a control character"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - parsing the port is what raises for a bad one
    except ValueError as exc:
        return f"it cannot be parsed ({exc})"
    if parts.scheme not in _SCHEMES:
        return "it must start with http:// or https://"
    if not parts.hostname:
        return "it names no host"
    return None


def url_passwords(texts: Iterable[str]) -> list[str]:
    """Every password held in the userinfo of a URL within ``texts``, as written and
    percent-decoded (either form may be printed)."""
    found: list[str] = []
    for text in texts:
        if "://" not in text or "@" not in text:
            continue
        for match in _USERINFO_RE.finditer(text):
            _user, colon, password = match.group(1).partition(":")
            if colon and password:
                for form in (password, unquote(password)):
                    if form not in found:
                        found.append(form)
    return found
