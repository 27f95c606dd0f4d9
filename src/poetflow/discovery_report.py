"""The per-package description that ``discover`` shows (and JSON consumers rely on)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from poetflow.workspace import Package, Workspace

__all__ = ["describe_packages", "release_status"]


def describe_packages(workspace: Workspace, selected: Sequence[Package]) -> list[dict[str, Any]]:
    """Describe ``selected`` in topological order (dependencies first, cycles tolerated)."""
    names = {package.name for package in selected}
    order = workspace.graph.order(names, strict=False)
    entries = []
    for name in order:
        package = workspace.by_name[name]
        entries.append(
            {
                "name": package.name,
                "display_name": package.display_name,
                "version": package.version,
                "dynamic_version": package.dynamic_version,
                "path": package.relpath,
                "style": package.style,
                "build_backend": package.build_backend,
                "dependencies": list(package.runtime_dependencies),
                "dev_dependencies": list(package.dev_dependencies),
                "extras": {
                    dep.name: list(dep.extras) for dep in package.dependencies if dep.extras
                },
            }
        )
    return entries


def release_status(workspace: Workspace, selected: Sequence[Package]) -> dict[str, dict[str, Any]]:
    """Per package: last release tag, commits since it, the pending bump and the indexes
    a release goes to (``--status``).

    One walk of the git history for all packages (the version planner's); git is read
    only when asked, so plain ``discover`` stays a pure file scan.
    """
    from poetflow.publish.routes import default_targets, private_reason
    from poetflow.versioning.plan import plan_versions

    plan = plan_versions(workspace, selected)
    return {
        entry.name: {
            "last_tag": entry.last_tag,
            "commits_since": entry.commits,
            "pending_bump": entry.bump,
            "next_version": entry.next if entry.changed else None,
            # Where a release goes by default, or why nowhere.
            "targets": list(default_targets(workspace, workspace.by_name[entry.name])),
            "private": private_reason(workspace.by_name[entry.name]),
            "limited_to": _limited_to(workspace.by_name[entry.name]),
        }
        for entry in plan.packages
        if entry.name in {package.name for package in selected}
    }


def _limited_to(package: Package) -> list[str] | None:
    allowed = package.config.publish.repositories
    return list(allowed) if allowed is not None else None
