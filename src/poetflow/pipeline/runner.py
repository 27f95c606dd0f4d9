"""The stage runner: times every stage, reports progress and contains failures.

Each stage has the same contract: it receives the RunContext, returns a StageOutcome and
honours ``ctx.dry_run``. The runner never prints; it emits events through a callback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from poetflow.errors import PoetFlowError
from poetflow.workspace import Package, Workspace

__all__ = [
    "PackageOutcome",
    "PipelineResult",
    "RunContext",
    "Stage",
    "StageOutcome",
    "StageStatus",
    "run_stages",
]

logger = logging.getLogger(__name__)

StageStatus = Literal["succeeded", "failed", "skipped"]
PackageStatus = str  # stage-specific: passed, built, up to date, uploaded, blocked, ...


@dataclass(frozen=True)
class PackageOutcome:
    """What one stage did for one package."""

    status: PackageStatus
    detail: str = ""
    duration: float = 0.0
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "error")


@dataclass(frozen=True)
class StageOutcome:
    """The result of one stage: its status, a one-line summary and per-package outcomes."""

    name: str
    status: StageStatus
    summary: str = ""
    packages: Mapping[str, PackageOutcome] = field(default_factory=dict)
    duration: float = 0.0
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class RunContext:
    """Everything a stage may read; stages replace ``workspace`` when they change versions."""

    workspace: Workspace
    selected: tuple[Package, ...]
    dry_run: bool = False
    options: Mapping[str, Any] = field(default_factory=dict)
    outcomes: list[StageOutcome] = field(default_factory=list)


class Stage(Protocol):
    """One pipeline stage; the runner skips every stage after a failed one."""

    name: str

    def run(self, ctx: RunContext) -> StageOutcome: ...


@dataclass(frozen=True)
class PipelineResult:
    outcomes: tuple[StageOutcome, ...]
    duration: float

    @property
    def failed(self) -> bool:
        return any(outcome.status == "failed" for outcome in self.outcomes)

    @property
    def failed_stage(self) -> StageOutcome | None:
        return next((o for o in self.outcomes if o.status == "failed"), None)


StageEvent = Callable[[str, str, StageOutcome | None], None]


def run_stages(
    stages: Sequence[Stage],
    ctx: RunContext,
    *,
    on_stage: StageEvent | None = None,
    span: Callable[[str], Any] | None = None,
) -> PipelineResult:
    """Run ``stages`` in order; after a failure the remaining stages are skipped.

    Bad input (PoetFlowError with exit code 2) propagates: nothing irreversible has run
    yet at that point by construction, and the adapters turn it into exit 2. An
    unexpected exception becomes a failed stage naming the stage.
    """
    started = time.monotonic()
    failed = False
    for stage in stages:
        if failed:
            outcome = StageOutcome(stage.name, "skipped", "skipped: an earlier stage failed")
            ctx.outcomes.append(outcome)
            if on_stage:
                on_stage("skipped", stage.name, outcome)
            continue
        if on_stage:
            on_stage("started", stage.name, None)
        stage_started = time.monotonic()
        try:
            if span is not None:
                with span(stage.name):
                    outcome = stage.run(ctx)
            else:
                outcome = stage.run(ctx)
        except PoetFlowError as exc:
            if exc.exit_code == 2:
                raise
            outcome = StageOutcome(stage.name, "failed", str(exc))
        except Exception as exc:
            logger.debug("stage %s crashed", stage.name, exc_info=True)
            outcome = StageOutcome(
                stage.name,
                "failed",
                f"stage {stage.name} failed unexpectedly: {type(exc).__name__}: {exc}",
            )
        outcome = StageOutcome(
            outcome.name,
            outcome.status,
            outcome.summary,
            outcome.packages,
            time.monotonic() - stage_started,
            outcome.data,
        )
        ctx.outcomes.append(outcome)
        if on_stage:
            on_stage("finished", stage.name, outcome)
        failed = outcome.status == "failed"
    return PipelineResult(tuple(ctx.outcomes), time.monotonic() - started)
