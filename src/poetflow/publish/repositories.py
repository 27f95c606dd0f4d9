"""Where to publish: built-in indexes, ``[tool.poetflow.repositories]`` and Poetry's own config."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from poetflow.errors import PublishError
from poetflow.publish.settings import default_index_url
from poetflow.tables import shown
from poetflow.urls import url_problem
from poetflow.workspace import Workspace

__all__ = [
    "BUILTIN_REPOSITORIES",
    "Repository",
    "env_key",
    "poetry_config_dir",
    "resolve_repository",
]


@dataclass(frozen=True)
class Repository:
    """An index to publish to: ``url`` takes uploads, ``index_url`` is its simple API."""

    name: str
    url: str
    index_url: str
    source: str

    @property
    def is_pypi(self) -> bool:
        return self.name in ("pypi", "testpypi")


BUILTIN_REPOSITORIES: Mapping[str, Repository] = {
    "pypi": Repository(
        "pypi", "https://upload.pypi.org/legacy/", "https://pypi.org/simple/", "built in"
    ),
    "testpypi": Repository(
        "testpypi", "https://test.pypi.org/legacy/", "https://test.pypi.org/simple/", "built in"
    ),
}


def env_key(name: str) -> str:
    """A repository name as it appears inside environment variable names (Poetry's rule)."""
    return re.sub(r"[^A-Z0-9]", "_", name.upper())


def poetry_config_dir(env: Mapping[str, str]) -> Path:
    """Poetry's configuration folder, found the way Poetry finds it."""
    if env.get("POETRY_CONFIG_DIR"):
        return Path(env["POETRY_CONFIG_DIR"])
    home = Path(env.get("HOME") or Path.home())
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "pypoetry"
    if sys.platform == "win32":
        return Path(env.get("APPDATA") or home / "AppData" / "Roaming") / "pypoetry"
    return Path(env.get("XDG_CONFIG_HOME") or home / ".config") / "pypoetry"


def _poetry_repositories(env: Mapping[str, str]) -> dict[str, str]:
    config = poetry_config_dir(env) / "config.toml"
    if not config.is_file():
        return {}
    from poetflow.tomlfile import read_toml

    table = read_toml(config).get("repositories", {})
    found: dict[str, str] = {}
    if isinstance(table, Mapping):
        for name, entry in table.items():
            if isinstance(entry, Mapping) and isinstance(entry.get("url"), str):
                found[str(name)] = entry["url"]
    return found


def _configured(workspace: Workspace, name: str) -> Repository | None:
    entry = workspace.config.repositories.get(name)
    if entry is None:
        return None
    return Repository(name, entry.url, entry.index_url, workspace.config.where)


def _check_url(url: str, source: str) -> None:
    """Refuse a URL the upload could not even open, before anything is built."""
    problem = url_problem(url)
    if problem:
        raise PublishError(
            f"{source} {shown(url)} is not a URL: {problem}.",
            hint="Give the upload URL of the index, e.g. https://pkgs.example.com/legacy/.",
        )


def resolve_repository(
    workspace: Workspace,
    name: str | None,
    url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Repository:
    """The repository ``--repository NAME`` / ``--repository-url URL`` points at.

    Lookup order for a name: ``[tool.poetflow.repositories]``, ``POETRY_REPOSITORIES_<NAME>_URL``,
    Poetry's config.toml, then the built-in pypi/testpypi.
    """
    env = os.environ if env is None else env
    if url is not None:
        if name is not None:
            raise PublishError("Give --repository or --repository-url, not both.")
        _check_url(url, "--repository-url")
        return Repository("url", url, default_index_url(url), "--repository-url")
    if name is None:
        name = workspace.config.publish.repository or "pypi"
    repository = _configured(workspace, name)
    if repository is not None:
        return repository
    env_url = env.get(f"POETRY_REPOSITORIES_{env_key(name)}_URL")
    if env_url:
        _check_url(env_url, f"POETRY_REPOSITORIES_{env_key(name)}_URL")
        return Repository(
            name, env_url, default_index_url(env_url), f"POETRY_REPOSITORIES_{env_key(name)}_URL"
        )
    for poetry_name, poetry_url in _poetry_repositories(env).items():
        if env_key(poetry_name) == env_key(name):
            source = str(poetry_config_dir(env) / "config.toml")
            _check_url(poetry_url, f"{source}: repositories.{poetry_name}.url")
            return Repository(name, poetry_url, default_index_url(poetry_url), source)
    if name in BUILTIN_REPOSITORIES:
        return BUILTIN_REPOSITORIES[name]
    known = sorted({*BUILTIN_REPOSITORIES, *workspace.config.repositories})
    raise PublishError(
        f"Unknown repository {name!r}: it is not built in, not in [tool.poetflow.repositories] "
        f"and not in Poetry's configuration.",
        hint=f"Known: {', '.join(known)}. Add [tool.poetflow.repositories.{name}] with a url, "
        f"or run `poetry config repositories.{name} URL`.",
    )
