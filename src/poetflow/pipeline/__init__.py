"""The release pipeline: stages run in order, local and reversible ones before uploads."""

from __future__ import annotations

from poetflow.pipeline.runner import (
    PackageOutcome,
    PipelineResult,
    RunContext,
    Stage,
    StageOutcome,
    run_stages,
)

__all__ = [
    "PackageOutcome",
    "PipelineResult",
    "RunContext",
    "Stage",
    "StageOutcome",
    "run_stages",
]
