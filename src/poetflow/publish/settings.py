"""Publish settings: ``[tool.poetflow.repositories.NAME]`` and ``[tool.poetflow.publish]``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from poetflow.tables import Table, shown
from poetflow.urls import url_problem

__all__ = [
    "PublishSettings",
    "RepositorySettings",
    "default_index_url",
    "parse_publish",
    "parse_repositories",
]

KEYS = ("repository", "sign", "publisher", "options")
REPOSITORY_KEYS = ("url", "index-url")


@dataclass(frozen=True)
class RepositorySettings:
    """An index configured by name: ``url`` takes uploads, ``index_url`` is its simple API."""

    name: str
    url: str
    index_url: str


@dataclass(frozen=True)
class PublishSettings:
    """The defaults of ``poetflow publish``: where, whether to sign, a publisher plugin and
    the options handed to it."""

    repository: str | None = None
    sign: bool = False
    publisher: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


def default_index_url(url: str) -> str:
    """Guess the simple index of an upload URL: ``.../legacy/`` -> ``.../simple/``;
    a URL that already is a simple index is its own; otherwise ``<url>/simple/``."""
    base = url if url.endswith("/") else url + "/"
    if base.endswith("/simple/"):
        return base
    if base.endswith("/legacy/"):
        return base[: -len("legacy/")] + "simple/"
    return base + "simple/"


def parse_repositories(table: Table) -> Mapping[str, RepositorySettings]:
    found: dict[str, RepositorySettings] = {}
    for name in table.data:
        entry = table.sub(name)
        entry.only(REPOSITORY_KEYS)
        url = entry.string("url", None, example='"https://pkgs.example.com/legacy/"')
        if url is None:
            raise entry.error(
                "url",
                "is missing.",
                f'Add url = "https://.../" under [{entry.path}].',
            )
        index_url = entry.string("index-url", default_index_url(url))
        for key, value in (("url", url), ("index-url", index_url)):
            problem = url_problem(value)
            if problem:
                raise entry.error(
                    key,
                    f"= {shown(value)} is not a URL: {problem}.",
                    'Write it like url = "https://pkgs.example.com/legacy/".',
                )
        found[name] = RepositorySettings(name, url, index_url)
    return found


def parse_publish(table: Table) -> PublishSettings:
    table.only(KEYS)
    publisher = table.string("publisher", None, example='"my-plugin"')
    return PublishSettings(
        repository=table.string("repository", None, example='"internal"'),
        sign=table.boolean("sign", False),
        publisher=publisher.strip() if publisher else None,
        options=dict(table.mapping("options")),
    )
