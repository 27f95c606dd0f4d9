"""Which package goes to which index: per-package targets, private packages, and the check
that no index gets a package whose runtime dependency it will not hold.

A package goes to every index of a run unless its own ``[tool.poetflow.publish]`` limits
it (``repositories = [...]``) or keeps it private (``skip = true``, or the ``Private ::
Do Not Upload`` trove classifier, the convention Poetry and PyPI share). The check runs
in the plan phase, before anything is built or uploaded, and ``--dry-run`` hits it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from poetflow.errors import PublishError
from poetflow.workspace import Package, Workspace

__all__ = [
    "PRIVATE_CLASSIFIER",
    "PublishRouteError",
    "check_package_repositories",
    "check_routes",
    "default_targets",
    "goes_to",
    "private_reason",
    "withheld_reason",
]

PRIVATE_CLASSIFIER = "Private :: Do Not Upload"


class PublishRouteError(PublishError):
    """A package would reach an index that lacks one of its runtime dependencies (exit 2)."""


def _classifiers(data: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    project = data.get("project")
    if isinstance(project, Mapping) and isinstance(project.get("classifiers"), list):
        found += [str(item) for item in project["classifiers"]]
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, Mapping) else None
    if isinstance(poetry, Mapping) and isinstance(poetry.get("classifiers"), list):
        found += [str(item) for item in poetry["classifiers"]]
    return found


def private_reason(package: Package) -> str | None:
    """Why the package is never published (None: it is)."""
    if package.config.publish.skip:
        return f"skip = true in {package.relpath}/pyproject.toml"
    # An explicit repositories list is the package saying where it goes: the classifier
    # then guards it against PyPI (which refuses it) without keeping it off its own index.
    if package.config.publish.repositories is not None:
        return None
    if any(item.strip() == PRIVATE_CLASSIFIER for item in _classifiers(package.data)):
        return f"the {PRIVATE_CLASSIFIER!r} classifier"
    return None


def goes_to(package: Package, repository: str | None) -> bool:
    """Does a run publishing to ``repository`` (None: not an index, e.g. a publisher
    plugin) send this package there?"""
    if private_reason(package) is not None:
        return False
    allowed = package.config.publish.repositories
    return repository is None or allowed is None or repository in allowed


def withheld_reason(package: Package, repositories: Sequence[str | None]) -> str | None:
    """Why a run to ``repositories`` publishes the package nowhere (None: it goes somewhere)."""
    private = private_reason(package)
    if private is not None:
        return f"never published: {private}"
    if any(goes_to(package, name) for name in repositories):
        return None
    allowed = ", ".join(package.config.publish.repositories or ())
    return f"not for {', '.join(str(name) for name in repositories)}: it goes to {allowed} only"


def default_targets(workspace: Workspace, package: Package) -> tuple[str, ...]:
    """The indexes a run publishes the package to when the command line names none:
    the workspace's default indexes it may go to (none when it is private)."""
    defaults = workspace.config.publish.default_repositories
    return tuple(name for name in defaults if goes_to(package, name))


def check_routes(
    workspace: Workspace, packages: Iterable[Package], repositories: Sequence[str | None]
) -> None:
    """Refuse (exit 2) a run in which a package reaches an index that will not hold one
    of its runtime dependencies: its users there could not install it.

    The dependency is judged by its own settings, not by this run's selection: a
    dependency that may go to the index is published there by this run or an earlier one.
    """
    for package in packages:
        for repository in repositories:
            if repository is None or not goes_to(package, repository):
                continue
            for name in package.runtime_dependencies:
                dependency = workspace.by_name.get(name)
                if dependency is None or goes_to(dependency, repository):
                    continue
                why = private_reason(dependency) or (
                    "its [tool.poetflow.publish] repositories are "
                    + ", ".join(dependency.config.publish.repositories or ())
                )
                raise PublishRouteError(
                    f"{package.name} would be published to {repository}, but its runtime "
                    f"dependency {dependency.name} is not published there ({why}), so "
                    f"{package.name} could not be installed from {repository}.",
                    hint=f"Publish {dependency.name} to {repository} too, or limit "
                    f"{package.name} with [tool.poetflow.publish] repositories = [...] in "
                    f"{package.relpath}/pyproject.toml (or skip = true).",
                )


def check_package_repositories(
    workspace: Workspace, packages: Iterable[Package], env: Mapping[str, str]
) -> None:
    """Refuse (exit 2) a package whose ``repositories`` names an index PoetFlow does not
    know: a typo would otherwise keep the package from every index without a word."""
    from poetflow.publish.repositories import resolve_repository

    known: dict[str, bool] = {}
    for package in packages:
        for name in package.config.publish.repositories or ():
            if name not in known:
                try:
                    resolve_repository(workspace, name, env=env)
                    known[name] = True
                except PublishError:
                    known[name] = False
            if not known[name]:
                choices = sorted({"pypi", "testpypi", *workspace.config.repositories})
                raise PublishRouteError(
                    f"{package.relpath}/pyproject.toml: [tool.poetflow.publish] repositories "
                    f"names {name!r}, which is not a repository PoetFlow knows.",
                    hint=f"Known: {', '.join(choices)}. Fix the name, or add "
                    f"[tool.poetflow.repositories.{name}] with a url to the root pyproject.toml.",
                )
