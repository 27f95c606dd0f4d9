"""Turn a pipeline outcome into the run report (``poetflow-report.json`` + summary)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from poetflow.pipeline.release import RunOutcome
from poetflow.report import (
    ArtifactRecord,
    PackageRecord,
    RunReport,
    StageRecord,
    TestCounts,
)

__all__ = ["build_run_report"]


def _artifacts(outcome: RunOutcome, name: str, root: Path) -> tuple[ArtifactRecord, ...]:
    by_path: dict[str, ArtifactRecord] = {}
    signed = any(o.name == "sign" and o.status == "succeeded" for o in outcome.result.outcomes)
    for stage in outcome.result.outcomes:
        package = stage.packages.get(name)
        if package is None:
            continue
        if stage.name == "build":
            for path, sha256, size in package.data.get("artifacts", ()):
                shown = _relative(Path(path), root)
                by_path[shown] = ArtifactRecord(shown, sha256, size, (), signed)
        if stage.name == "publish":
            for item in package.data.get("files", ()):
                shown = _relative(Path(item["path"]), root)
                where = (item["url"],) if item["status"] in ("uploaded", "skipped") else ()
                by_path[shown] = ArtifactRecord(shown, item["sha256"], item["size"], where, signed)
    return tuple(by_path.values())


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _counts(data: Any) -> TestCounts | None:
    counts = data.get("counts") if data else None
    if counts is None:
        return None
    return TestCounts(counts.tests, counts.failures, counts.errors, counts.skipped)


def build_run_report(
    outcome: RunOutcome, *, command: str, dry_run: bool, ci: dict[str, str] | None = None
) -> RunReport:
    """The report of one ``poetflow run``: every selected package with its stages."""
    root = outcome.workspace.root
    packages = []
    for package in outcome.workspace.packages:
        if package.name not in outcome.selected and not any(
            package.name in stage.packages for stage in outcome.result.outcomes
        ):
            continue
        stages = []
        tests = None
        for stage in outcome.result.outcomes:
            entry = stage.packages.get(package.name)
            if entry is None:
                continue
            stages.append(StageRecord(stage.name, entry.status, entry.duration, entry.detail))
            if stage.name == "test":
                tests = _counts(entry.data)
        packages.append(
            PackageRecord(
                name=package.name,
                path=package.relpath,
                version_before=outcome.versions_before.get(package.name),
                version_after=outcome.versions_after.get(package.name),
                stages=tuple(stages),
                artifacts=_artifacts(outcome, package.name, root),
                tests=tests,
            )
        )
    junit = [
        str(stage.data["junit"])
        for stage in outcome.result.outcomes
        if stage.name == "test" and stage.data.get("junit")
    ]
    failed = outcome.result.failed
    return RunReport(
        command=command,
        status="failed" if failed else "succeeded",
        exit_code=1 if failed else 0,
        packages=tuple(packages),
        stages=tuple(
            StageRecord(o.name, o.status, o.duration, o.summary) for o in outcome.result.outcomes
        ),
        dry_run=dry_run,
        duration=outcome.result.duration,
        root=str(root),
        ci=ci or {},
        junit=tuple(junit),
    )
