"""Every command that does work runs its stages through here: measured, reported, handed to CI.

``test``, ``build``, ``sign``, ``publish``, ``version``, ``changelog`` and ``run`` all go
through :func:`run_command` (telemetry spans and metrics around ``run_stages``) and
:func:`finish_command` (the run report of what that command did, written to the report
folder, then handed in-process to the CI system it runs in), so none of them reports or
measures differently.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from poetflow.errors import StepFailedError

if TYPE_CHECKING:
    from poetflow.pipeline.runner import (
        PipelineResult,
        RunContext,
        RunOptions,
        Stage,
        StageEvent,
    )
    from poetflow.report import RunReport
    from poetflow.workspace import Package, Workspace

__all__ = ["finish_command", "report_directory", "run_command", "run_one_stage"]

logger = logging.getLogger("poetflow")

R = TypeVar("R")


def report_directory(given: Path | None) -> Path:
    """``--report-dir`` (or POETFLOW_REPORT_DIR), relative to the working directory."""
    from poetflow.report import DEFAULT_REPORT_DIR

    directory = given or Path(os.environ.get("POETFLOW_REPORT_DIR") or DEFAULT_REPORT_DIR)
    return directory if directory.is_absolute() else Path.cwd() / directory


def run_command(
    command: str,
    stages: Sequence[Stage],
    workspace: Workspace,
    selected: Sequence[Package],
    options: RunOptions,
    *,
    targets: Sequence[str] | None = None,
    on_stage: StageEvent | None = None,
) -> tuple[PipelineResult, RunContext]:
    """Run one command's stages on ``selected`` with telemetry around them.

    ``targets`` are the packages build/sign/publish work on (default: the selection).
    """
    from poetflow.pipeline.runner import RunContext, RunState, run_stages
    from poetflow.telemetry import Telemetry

    state = RunState(
        workspace=workspace,
        targets=list(targets) if targets is not None else [p.name for p in selected],
    )
    ctx = RunContext(selected=tuple(selected), options=options, state=state)
    telemetry = Telemetry.start(pipeline=f"poetflow {command}", endpoint=options.telemetry_endpoint)
    try:
        result = run_stages(stages, ctx, on_stage=on_stage, telemetry=telemetry)
    except BaseException:
        telemetry.shutdown(result="error")
        raise
    telemetry.shutdown(result="failure" if result.failed else "success")
    return result, ctx


def finish_command(
    command: str,
    result: PipelineResult,
    workspace: Workspace,
    *,
    exit_code: int,
    options: RunOptions,
    names: Sequence[str] | None = None,
    versions_before: Mapping[str, str | None] | None = None,
) -> tuple[RunReport, Path | None]:
    """The run report of what ``command`` did, written (not under ``--dry-run``) and
    handed to the CI system (under ``--dry-run`` too: its outputs and summary are its
    own). It lists only the packages the stages worked on (and ``names``), as they are
    in ``workspace`` now."""
    from poetflow.ci.handover import active_system, hand_over_report
    from poetflow.report import REPORT_FILENAME, build_run_report, write_report

    involved = {name for stage in result.outcomes for name in stage.packages}
    involved |= set(names or ())
    report = build_run_report(
        f"poetflow {command}",
        result,
        _dependencies_first(workspace, involved),
        root=workspace.root,
        exit_code=exit_code,
        versions_before=versions_before,
        dry_run=options.dry_run,
        ci=active_system().report_fields(),
    )
    directory = report_directory(options.report_dir)
    path: Path | None = None
    if options.dry_run:
        # A dry run writes nothing anywhere: no report, no CI outputs or summary either.
        logger.info("dry run: the report would be written to %s", directory / REPORT_FILENAME)
    else:
        path = write_report(report, directory)
    hand_over_report(report, directory, path)
    return report, path


def _dependencies_first(workspace: Workspace, names: set[str]) -> list[Package]:
    """The packages in the order the stages worked on them, as the tables and the summary's
    timeline show them."""
    order = workspace.graph.order(
        [p.name for p in workspace.packages if p.name in names], strict=False
    )
    return [workspace.by_name[name] for name in order]


def run_one_stage(
    command: str,
    stage: Stage,
    workspace: Workspace,
    selected: Sequence[Package],
    options: RunOptions,
    kind: type[R],
    *,
    exit_code: Callable[[R], int],
    reload: bool = False,
) -> R | None:
    """A command that is one stage: run it, report it, return the engine's own report.

    None when the stage had nothing to do. When the engine itself failed without a
    report (a crash), the run report says so and StepFailedError carries its summary.
    ``reload`` reports the packages as the stage left them on disk (new versions).
    """
    result, _ctx = run_command(command, [stage], workspace, selected, options)
    outcome = result.outcomes[0]
    report = outcome.report if isinstance(outcome.report, kind) else None
    failed = 1 if outcome.status == "failed" else 0
    code = exit_code(report) if report is not None else failed
    after = workspace
    if reload and not options.dry_run:
        from poetflow.workspace import load_workspace

        after = load_workspace(workspace.root)
    before = {p.name: p.version for p in workspace.packages}
    finish_command(command, result, after, exit_code=code, options=options, versions_before=before)
    if report is None and outcome.status == "failed":
        raise StepFailedError(outcome.summary)
    return report
