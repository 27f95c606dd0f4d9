"""``poetflow plan``: what ``run`` would do per package and why.

The CI fan-out formats of the plan (a job matrix, a child pipeline) belong to their CI
systems: :func:`poetflow.ci.registry.plan_formats`.
"""

from __future__ import annotations

from typing import Any

from poetflow.pipeline.stages import STAGES
from poetflow.selection import Selection, select_packages
from poetflow.workspace import Workspace

__all__ = ["make_plan"]


def make_plan(workspace: Workspace, selection: Selection) -> dict[str, Any]:
    """Per package: current and next version, the bump and its reasons, the stages to run.

    Without a selection, the packages with commits since their last release and their
    dependents are planned, as ``run`` would.
    """
    from poetflow.versioning.plan import plan_versions

    explicit = select_packages(workspace, selection)
    plan = plan_versions(workspace, explicit, "auto", merged=True)
    if selection.is_everything and not selection.all:
        names = {entry.name for entry in plan.touched}
    else:
        names = {p.name for p in explicit} | {entry.name for entry in plan.touched}
    entries = {entry.name: entry for entry in plan.packages}
    order = workspace.graph.order(names, strict=False)
    packages = []
    for name in order:
        package = workspace.by_name[name]
        entry = entries.get(name)
        releasing = entry is not None and entry.changed
        packages.append(
            {
                "package": name,
                "path": package.relpath,
                "current": package.version,
                "next": entry.next if entry else package.version,
                "bump": entry.bump if releasing and entry else None,
                "reasons": list(entry.reasons) if entry else [],
                "commits": entry.commits if entry else 0,
                "last_tag": entry.last_tag if entry else None,
                "stages": [s.name for s in STAGES if releasing or not s.release],
                "dependencies": [d for d in package.runtime_dependencies if d in names],
            }
        )
    return {"versioning": plan.versioning, "packages": packages}
