"""Publish settings: ``[tool.poetflow.repositories.NAME]`` and ``[tool.poetflow.publish]``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from poetflow.tables import Table, shown
from poetflow.urls import url_problem

__all__ = [
    "PackagePublishSettings",
    "PublishSettings",
    "RepositorySettings",
    "default_index_url",
    "parse_package_publish",
    "parse_publish",
    "parse_repositories",
]

KEYS = ("repository", "repositories", "sign", "publisher", "options")
PACKAGE_KEYS = ("repositories", "skip")
REPOSITORY_KEYS = ("url", "index-url")


@dataclass(frozen=True)
class RepositorySettings:
    """An index configured by name: ``url`` takes uploads, ``index_url`` is its simple API."""

    name: str
    url: str
    index_url: str


@dataclass(frozen=True)
class PublishSettings:
    """The defaults of ``poetflow publish``: where (one ``repository`` or several
    ``repositories``, published to in one run), whether to sign, a publisher plugin and
    the options handed to it."""

    repository: str | None = None
    repositories: tuple[str, ...] = ()
    sign: bool = False
    publisher: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def default_repositories(self) -> tuple[str, ...]:
        """The indexes a run publishes to when the command line names none."""
        if self.repositories:
            return self.repositories
        return (self.repository or "pypi",)


@dataclass(frozen=True)
class PackagePublishSettings:
    """A package's own ``[tool.poetflow.publish]``: ``repositories`` limits the indexes it
    goes to (None: every index of the run), ``skip`` never publishes it."""

    repositories: tuple[str, ...] | None = None
    skip: bool = False


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


def _names(table: Table, key: str) -> tuple[str, ...] | None:
    names = table.strings(key, None, example=f'{key} = ["internal", "pypi"]')
    if names is None:
        return None
    for name in names:
        if not name.strip():
            raise table.error(
                key, "holds an empty repository name.", f'Write it like {key} = ["internal"].'
            )
    return tuple(dict.fromkeys(name.strip() for name in names))


def parse_publish(table: Table) -> PublishSettings:
    table.only(KEYS)
    publisher = table.string("publisher", None, example='"my-plugin"')
    repository = table.string("repository", None, example='"internal"')
    repositories = _names(table, "repositories") or ()
    if repository is not None and repositories:
        raise table.error(
            "repository",
            "and repositories are both set.",
            f'Keep one: repositories = ["{repository}", ...] lists every index of a run.',
        )
    if "repositories" in table and not repositories:
        raise table.error(
            "repositories", "is empty.", 'Name at least one index, e.g. repositories = ["pypi"].'
        )
    return PublishSettings(
        repository=repository,
        repositories=repositories,
        sign=table.boolean("sign", False),
        publisher=publisher.strip() if publisher else None,
        options=dict(table.mapping("options")),
    )


def parse_package_publish(table: Table) -> PackagePublishSettings:
    """A member's ``[tool.poetflow.publish]``: where this package may go, or nowhere."""
    table.only(PACKAGE_KEYS)
    repositories = _names(table, "repositories")
    if repositories is not None and not repositories:
        raise table.error(
            "repositories",
            "is empty, which would publish the package nowhere.",
            "Write skip = true to keep it private, or name the indexes it goes to.",
        )
    return PackagePublishSettings(repositories=repositories, skip=table.boolean("skip", False))
