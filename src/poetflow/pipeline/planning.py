"""``poetflow plan``: what ``run`` would do per package and why.

The CI fan-out formats of the plan (a job matrix, a child pipeline) belong to their CI
systems: :func:`poetflow.ci.registry.plan_formats`.
"""

from __future__ import annotations

from typing import Any

from poetflow.pipeline.stages import STAGES, StageSpec
from poetflow.selection import Selection, select_packages
from poetflow.workspace import Workspace

__all__ = ["make_plan"]


def make_plan(workspace: Workspace, selection: Selection) -> dict[str, Any]:
    """Per package: current and next version, the bump and its reasons, the stages to run,
    the indexes its release goes to.

    Without a selection, the packages with commits since their last release and their
    dependents are planned, as ``run`` would; a release ``run`` would refuse (a package
    reaching an index without its runtime dependency) is refused here too (exit 2).
    """
    from poetflow.publish.routes import check_routes, default_targets, private_reason
    from poetflow.versioning.plan import plan_versions

    explicit = select_packages(workspace, selection)
    plan = plan_versions(workspace, explicit, "auto", merged=True)
    if selection.is_everything and not selection.all:
        names = {entry.name for entry in plan.touched}
    else:
        names = {p.name for p in explicit} | {entry.name for entry in plan.touched}
    entries = {entry.name: entry for entry in plan.packages}
    stages = _configured_stages(workspace)
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
                "stages": [spec.name for spec in stages if releasing or not spec.release],
                "dependencies": [d for d in package.runtime_dependencies if d in names],
                # Where its release goes (run's default indexes), shown even with no release.
                "targets": list(default_targets(workspace, package)),
                "private": private_reason(package),
            }
        )
    releases = [workspace.by_name[str(p["package"])] for p in packages if p["bump"] is not None]
    check_routes(workspace, releases, workspace.config.publish.default_repositories)
    return {"versioning": plan.versioning, "packages": packages}


def _configured_stages(workspace: Workspace) -> list[StageSpec]:
    """The stages a plain ``poetflow run`` runs here: [tool.poetflow.pipeline] stages and
    skip, and sign only when signing is on (the sign stage skips itself otherwise)."""
    settings = workspace.config.pipeline
    return [
        spec
        for spec in STAGES
        if spec.name in settings.stages
        and spec.name not in settings.skip
        and (spec.name != "sign" or settings.sign)
    ]
