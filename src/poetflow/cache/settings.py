"""Task cache settings: ``[tool.poetflow.cache]``, overridden by CLI options and variables."""

from __future__ import annotations

from dataclasses import dataclass

from poetflow.tables import Table

__all__ = ["DEFAULT_MAX_SIZE_MB", "CacheSettings", "parse_cache"]

DEFAULT_MAX_SIZE_MB = 2048.0
# A remote cache that answers nothing within this many seconds is given up for the run.
DEFAULT_TIMEOUT = 5.0
KEYS = ("enabled", "url", "read-only", "max-size-mb", "timeout", "env")


@dataclass(frozen=True)
class CacheSettings:
    """Whether results are cached, where the shared remote cache is (``url``: the root
    under which ``ac/`` and ``cas/`` live), whether this job may write to it, the local
    store's bound, the remote's timeout, and the outside variables whose values are inputs
    of every test (their values are hashed into keys, never stored)."""

    enabled: bool = True
    url: str | None = None
    read_only: bool = False
    max_size_mb: float = DEFAULT_MAX_SIZE_MB
    timeout: float = DEFAULT_TIMEOUT
    env: tuple[str, ...] = ()


def parse_cache(table: Table) -> CacheSettings:
    """Validate a ``[tool.poetflow.cache]`` table."""
    table.only(KEYS)
    url = table.string("url", None, example='"https://cache.example.com/poetflow"')
    if url is not None and not url.startswith(("http://", "https://")):
        raise table.error(
            "url",
            f"must be an http:// or https:// URL, not {url!r}.",
            'For example url = "https://cache.example.com/poetflow".',
        )
    return CacheSettings(
        enabled=table.boolean("enabled", True),
        url=url,
        read_only=table.boolean("read-only", False),
        max_size_mb=table.number("max-size-mb", DEFAULT_MAX_SIZE_MB, what="MiB"),
        timeout=table.number("timeout", DEFAULT_TIMEOUT),
        env=table.strings("env", (), example='env = ["DATABASE_URL"]'),
    )
