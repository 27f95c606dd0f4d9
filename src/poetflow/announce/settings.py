"""Announce settings: ``[tool.poetflow.announce]``, parsed at load."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from poetflow.tables import Table

__all__ = ["PROVIDERS", "AnnounceSettings", "Provider", "parse_announce"]

Provider = Literal["auto", "github", "gitlab", "none"]
PROVIDERS: tuple[Provider, ...] = ("auto", "github", "gitlab", "none")
KEYS = ("provider", "draft", "prerelease")


@dataclass(frozen=True)
class AnnounceSettings:
    """Where releases go and how they look.

    ``provider`` "auto": the CI system's own host when its token is set (GitHub Actions
    with GITHUB_TOKEN, GitLab CI with CI_JOB_TOKEN or GITLAB_TOKEN), else none (locally).
    ``prerelease``: mark every release as a pre-release; PEP 440 pre-releases are marked
    either way. GitLab has neither drafts nor a pre-release flag.
    """

    provider: Provider = "auto"
    draft: bool = False
    prerelease: bool = False


def parse_announce(table: Table) -> AnnounceSettings:
    table.only(KEYS)
    return AnnounceSettings(
        provider=cast(Provider, table.choice("provider", PROVIDERS, "auto")),
        draft=table.boolean("draft", False),
        prerelease=table.boolean("prerelease", False),
    )
