"""Every command that does work runs its stages through here: measured, reported, handed to CI.

``test``, ``build``, ``sign``, ``publish``, ``version``, ``changelog`` and ``run`` all go
through :func:`run_command` (telemetry spans and metrics around ``run_stages``) and
:func:`finish_command` (the run report of what that command did, written to the report
folder, then handed to the CI system), so none of them reports or measures differently.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

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

__all__ = ["finish_command", "report_directory", "run_command"]

logger = logging.getLogger("poetflow")


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
    handed to the CI system. It lists only the packages the stages worked on (and
    ``names``), as they are in ``workspace`` now."""
    from poetflow.ci.environment import detect_environment
    from poetflow.report import REPORT_FILENAME, build_run_report, write_report

    involved = {name for stage in result.outcomes for name in stage.packages}
    involved |= set(names or ())
    ci = detect_environment(os.environ)
    report = build_run_report(
        f"poetflow {command}",
        result,
        [p for p in workspace.packages if p.name in involved],
        root=workspace.root,
        exit_code=exit_code,
        versions_before=versions_before,
        dry_run=options.dry_run,
        ci=ci.report_fields(),
    )
    directory = report_directory(options.report_dir)
    path: Path | None = None
    if options.dry_run:
        # A dry run writes nothing anywhere: no report, no CI outputs or summary either.
        logger.info("dry run: the report would be written to %s", directory / REPORT_FILENAME)
    else:
        path = write_report(report, directory)
        _hand_to_ci(report, path)
    return report, path


def _hand_to_ci(report: RunReport, path: Path | None) -> None:
    """Outside the container (which does this itself), GitHub outputs and step summary."""
    from poetflow.ci.environment import detect_environment

    ci = detect_environment(os.environ)
    if os.environ.get("POETFLOW_ENTRYPOINT") == "1" or ci.kind != "github":
        return
    from poetflow.ci.github import append_summary, write_outputs
    from poetflow.report import ci_outputs, render_markdown

    if ci.summary_file is not None:
        append_summary(ci.summary_file, render_markdown(report))
    if ci.output_file is not None:
        write_outputs(ci.output_file, ci_outputs(report, path))
