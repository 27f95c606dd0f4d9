"""The task cache's options, shared by ``test``, ``build`` and ``run``."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Optional

import typer

if TYPE_CHECKING:
    from poetflow.cache.settings import CacheSettings
    from poetflow.workspace import Workspace

__all__ = ["CacheReadOnlyOption", "CacheUrlOption", "NoCacheOption", "cache_settings"]

NoCacheOption = Annotated[
    bool,
    typer.Option(
        "--no-cache",
        envvar="POETFLOW_NO_CACHE",
        help="Run every package, even those whose inputs are unchanged since a passing "
        "run; store nothing.",
    ),
]
CacheUrlOption = Annotated[
    Optional[str],  # noqa: UP045 - typer needs Optional on Python 3.10
    typer.Option(
        "--cache-url",
        envvar="POETFLOW_CACHE_URL",
        help="A remote cache speaking Bazel's HTTP cache protocol (bazel-remote, nginx "
        "WebDAV, an S3 gateway); credentials from POETFLOW_CACHE_TOKEN or the URL's "
        "userinfo. Default: [tool.poetflow.cache] url.",
        show_default=False,
    ),
]
CacheReadOnlyOption = Annotated[
    Optional[bool],  # noqa: UP045
    typer.Option(
        "--cache-read-only/--cache-read-write",
        envvar="POETFLOW_CACHE_READ_ONLY",
        help="Use the remote cache's results but upload none (untrusted jobs, such as "
        "pull requests from forks). Default: [tool.poetflow.cache] read-only.",
        show_default=False,
    ),
]


def cache_settings(
    workspace: Workspace, *, no_cache: bool, url: str | None, read_only: bool | None
) -> CacheSettings | None:
    """The configured cache with the command line's overrides; None when it is off."""
    settings = workspace.config.cache
    if no_cache or not settings.enabled:
        return None
    if url:
        if not url.startswith(("http://", "https://")):
            raise typer.BadParameter(
                "must be an http:// or https:// URL (the root that holds ac/ and cas/).",
                param_hint="--cache-url",
            )
        settings = replace(settings, url=url)
    if read_only is not None:
        settings = replace(settings, read_only=read_only)
    return settings
