"""Choosing packages: ``--all``, ``--package NAME`` (repeatable) and ``--since REF``."""

from __future__ import annotations

from dataclasses import dataclass

from poetflow.errors import UsageError
from poetflow.workspace import Package, Workspace

__all__ = ["Selection", "select_packages", "shared_paths"]


@dataclass(frozen=True)
class Selection:
    """What the user asked for; empty means every package."""

    names: tuple[str, ...] = ()
    all: bool = False
    since: str | None = None

    @property
    def is_everything(self) -> bool:
        return not self.names and self.since is None


def select_packages(workspace: Workspace, selection: Selection) -> tuple[Package, ...]:
    """Resolve a selection into members, in discovery order.

    ``--since REF`` takes the packages with files changed between REF and HEAD, plus
    everything that depends on them (runtime edges, transitively).
    """
    if selection.all and (selection.names or selection.since):
        raise UsageError("--all cannot be combined with --package or --since.")
    if selection.is_everything:
        return workspace.packages
    chosen: set[str] = set()
    for name in selection.names:
        chosen.add(workspace.get(name).name)
    if selection.since is not None:
        chosen |= _changed_since(workspace, selection.since)
    return tuple(package for package in workspace.packages if package.name in chosen)


def _changed_since(workspace: Workspace, ref: str) -> set[str]:
    from poetflow.git import Repository

    repo = Repository.open(workspace.root)
    changed_files = repo.changed_files(ref)
    # [tool.poetflow] shared-paths (a root lock file, shared config) count for every package.
    shared = shared_paths(workspace)
    if any(_is_inside(path, folder) for path in changed_files for folder in shared):
        return {package.name for package in workspace.packages}
    changed = {
        package.name
        for package in workspace.packages
        if any(_is_inside(path, package.relpath_from(repo.workdir)) for path in changed_files)
    }
    return changed | workspace.graph.dependents(changed)


def shared_paths(workspace: Workspace) -> list[str]:
    """``[tool.poetflow] shared-paths``: files and folders that count for every package."""
    return list(workspace.config.shared_paths)


def _is_inside(path: str, folder: str) -> bool:
    return folder in ("", ".") or path == folder or path.startswith(folder.rstrip("/") + "/")
