"""The stage runner: order, skipping after failure, containment of crashes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from poetflow.errors import StepFailedError, UnknownPackageError
from poetflow.pipeline.runner import RunContext, RunOptions, RunState, StageOutcome, run_stages
from poetflow.workspace import load_workspace


@dataclass
class _Stage:
    name: str
    behaviour: str = "ok"
    irreversible: bool = False
    calls: list[str] = field(default_factory=list)

    def run(self, ctx: RunContext) -> StageOutcome:
        self.calls.append(self.name)
        if self.behaviour == "fail":
            raise StepFailedError(f"{self.name} failed for acme-core")
        if self.behaviour == "crash":
            raise RuntimeError("boom")
        if self.behaviour == "bad-input":
            raise UnknownPackageError("No package named 'x'.")
        return StageOutcome(self.name, "succeeded", f"{self.name} done")


def _ctx(root: Path) -> RunContext:
    workspace = load_workspace(root)
    return RunContext(workspace.packages, RunOptions(), RunState(workspace))


def test_stages_run_in_order_and_are_timed(demo_repo: Path) -> None:
    stages = [_Stage("test"), _Stage("build"), _Stage("publish", irreversible=True)]
    events: list[tuple[str, str]] = []
    result = run_stages(stages, _ctx(demo_repo), on_stage=lambda e, n, _o: events.append((e, n)))
    assert [o.name for o in result.outcomes] == ["test", "build", "publish"]
    assert not result.failed
    assert events[0] == ("started", "test")
    assert all(o.duration >= 0 for o in result.outcomes)


def test_failure_skips_every_later_stage(demo_repo: Path) -> None:
    publish = _Stage("publish", irreversible=True)
    result = run_stages([_Stage("test"), _Stage("build", "fail"), publish], _ctx(demo_repo))
    assert result.failed
    assert result.failed_stage is not None
    assert result.failed_stage.summary == "build failed for acme-core"
    assert result.outcomes[-1].status == "skipped"
    assert publish.calls == []


def test_unexpected_crash_names_the_stage(demo_repo: Path) -> None:
    result = run_stages([_Stage("build", "crash"), _Stage("publish")], _ctx(demo_repo))
    assert result.outcomes[0].summary == "stage build failed unexpectedly: RuntimeError: boom"
    assert result.outcomes[1].status == "skipped"


def test_bad_input_propagates_as_exit_2(demo_repo: Path) -> None:
    later = _Stage("publish")
    with pytest.raises(UnknownPackageError):
        run_stages([_Stage("test", "bad-input"), later], _ctx(demo_repo))
    assert later.calls == []
