"""Secret masking: every credential PoetFlow reads is registered here and hidden in all output."""

from __future__ import annotations

import logging
import threading

__all__ = ["MaskingFilter", "mask", "register_secret", "registered_secrets"]

_MASK = "***"
_lock = threading.Lock()
_secrets: set[str] = set()

# Short values would mask ordinary words all over the output; real tokens are longer.
_MIN_SECRET_LENGTH = 4


def register_secret(value: str | None) -> None:
    """Remember ``value`` so that :func:`mask` hides it everywhere from now on."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _lock:
            _secrets.add(value)


def registered_secrets() -> frozenset[str]:
    with _lock:
        return frozenset(_secrets)


def mask(text: str) -> str:
    """Replace every registered secret in ``text`` with ``***`` (longest first)."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, _MASK)
    return text


class MaskingFilter(logging.Filter):
    """Masks secrets in every log record, whatever handler or format prints it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message or record.args:
            record.msg = masked
            record.args = None
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True
