"""The stage runner: times every stage, opens its telemetry span, contains failures.

Each stage has the same contract: it receives the :class:`RunContext`, returns a
:class:`StageOutcome` and honours ``ctx.dry_run``. Every command that does work runs its
stage (or stages) through :func:`run_stages`, so all of them time, measure and report
the same way. The runner never prints; it emits events through a callback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from poetflow.errors import PoetFlowError
from poetflow.workspace import Package, Workspace

if TYPE_CHECKING:
    from poetflow.cache.settings import CacheSettings
    from poetflow.report import TestCounts
    from poetflow.telemetry import Telemetry
    from poetflow.versioning.journal import JournalTag
    from poetflow.versioning.plan import VersionPlan
    from poetflow.versioning.release import VersionResult
    from poetflow.versioning.transaction import Transaction

__all__ = [
    "CallStage",
    "PackageFacts",
    "PackageOutcome",
    "PipelineResult",
    "RunContext",
    "RunOptions",
    "RunState",
    "Stage",
    "StageEvent",
    "StageOutcome",
    "StageStatus",
    "run_stages",
]

logger = logging.getLogger(__name__)

StageStatus = Literal["succeeded", "failed", "skipped"]
PackageStatus = str  # stage-specific: passed, built, up to date, uploaded, blocked, ...


@dataclass(frozen=True)
class PackageFacts:
    """What a stage learnt about one package that the run report shows.

    ``published_to`` maps a file name to the URLs it is published at; ``signed`` names
    the files that were signed; ``output`` is a failure's captured output.
    """

    version: str | None = None
    reasons: tuple[str, ...] = ()
    artifacts: tuple[Path, ...] = ()
    published_to: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    signed: tuple[str, ...] = ()
    tests: TestCounts | None = None
    output: str = ""


@dataclass(frozen=True)
class PackageOutcome:
    """What one stage did for one package."""

    status: PackageStatus
    detail: str = ""
    duration: float = 0.0
    facts: PackageFacts = field(default_factory=PackageFacts)

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "error")


@dataclass(frozen=True)
class StageOutcome:
    """The result of one stage: its status, a one-line summary and per-package outcomes.

    ``report`` is the engine's own report (a BuildReport, a TestReport, ...) for the
    adapter that shows it; ``junit`` the JUnit XML the stage wrote, if any.
    """

    name: str
    status: StageStatus
    summary: str = ""
    packages: Mapping[str, PackageOutcome] = field(default_factory=dict)
    duration: float = 0.0
    report: object = None
    junit: Path | None = None
    # Seconds from the start of the run to the start of this stage (the summary's timeline).
    started: float = 0.0


@dataclass(frozen=True)
class RunOptions:
    """How a run behaves; for ``poetflow run``, CLI flags over ``[tool.poetflow.pipeline]``."""

    stages: tuple[str, ...] | None = None
    skip: tuple[str, ...] = ()
    dry_run: bool = False
    sign: bool | None = None
    push: bool = False
    # The indexes to publish to (empty: [tool.poetflow.pipeline] / [tool.poetflow.publish]).
    repositories: tuple[str, ...] = ()
    repository_url: str | None = None
    test_env: str | None = None
    jobs: int = 2
    report_dir: Path | None = None
    telemetry_endpoint: str | None = None
    allow_dirty: bool = False
    # The task cache for tests and builds (None: off), CLI options over the config.
    cache: CacheSettings | None = None


@dataclass
class RunState:
    """What stages learn and hand on during one run.

    ``workspace`` is replaced when the version stage changes versions; ``targets`` are
    the packages that build, sign and publish work on (the releases of this run, or the
    selection when there is no version stage); ``transaction`` is the release the version
    stage wrote (journalled under .git/): the release stage commits and tags it, and a
    later local stage that fails rolls it back.
    """

    workspace: Workspace
    targets: list[str] = field(default_factory=list)
    plan: VersionPlan | None = None
    version_result: VersionResult | None = None
    transaction: Transaction | None = None
    stages: tuple[str, ...] = ()
    artifacts: dict[str, list[Path]] = field(default_factory=dict)
    commit: str | None = None
    tags: list[str] = field(default_factory=list)
    outcomes: list[StageOutcome] = field(default_factory=list)
    # The tags of a merged release pull request, planned by the version stage.
    merged_tags: tuple[JournalTag, ...] = ()


@dataclass
class RunContext:
    """Everything a stage may read: the selection, the options and the run's state."""

    selected: tuple[Package, ...]
    options: RunOptions
    state: RunState

    @property
    def workspace(self) -> Workspace:
        return self.state.workspace

    @property
    def dry_run(self) -> bool:
        return self.options.dry_run

    def targets(self) -> tuple[Package, ...]:
        wanted = set(self.state.targets)
        return tuple(p for p in self.workspace.packages if p.name in wanted)


class Stage(Protocol):
    """One pipeline stage; the runner skips every stage after a failed one."""

    name: str

    def run(self, ctx: RunContext) -> StageOutcome: ...


@dataclass
class CallStage:
    """A command's own step as a stage (``version bump``, ``changelog``): ``body`` does
    the work and returns the outcome, and the runner times, measures and contains it."""

    name: str
    body: Callable[[RunContext], StageOutcome] = field(repr=False)

    def run(self, ctx: RunContext) -> StageOutcome:
        return self.body(ctx)


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

    def stage(self, name: str) -> StageOutcome | None:
        return next((o for o in self.outcomes if o.name == name), None)


StageEvent = Callable[[str, str, StageOutcome | None], None]


@contextmanager
def _no_span(_name: str) -> Iterator[None]:
    yield


def run_stages(
    stages: Sequence[Stage],
    ctx: RunContext,
    *,
    on_stage: StageEvent | None = None,
    telemetry: Telemetry | None = None,
) -> PipelineResult:
    """Run ``stages`` in order; after a failure the remaining stages are skipped.

    Bad input (PoetFlowError with exit code 2) propagates: nothing irreversible has run
    yet at that point by construction, and the adapters turn it into exit 2. An
    unexpected exception becomes a failed stage naming the stage. With ``telemetry``,
    every stage is a span and the packages it tested, built or published are counted.
    """
    started = time.monotonic()
    failed = False
    span: Callable[[str], AbstractContextManager[object]] = (
        telemetry.stage if telemetry is not None else _no_span
    )
    for stage in stages:
        if failed:
            outcome = StageOutcome(stage.name, "skipped", "skipped: an earlier stage failed")
            ctx.state.outcomes.append(outcome)
            if on_stage:
                on_stage("skipped", stage.name, outcome)
            continue
        if on_stage:
            on_stage("started", stage.name, None)
        stage_started = time.monotonic()
        try:
            with span(stage.name):
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
        outcome = replace(
            outcome, duration=time.monotonic() - stage_started, started=stage_started - started
        )
        ctx.state.outcomes.append(outcome)
        if telemetry is not None:
            _record(telemetry, outcome)
        if on_stage:
            on_stage("finished", stage.name, outcome)
        failed = outcome.status == "failed"
    return PipelineResult(tuple(ctx.state.outcomes), time.monotonic() - started)


# The package status that each stage's metric counts.
_COUNTED = {"test": "passed", "build": "built", "publish": "published"}


def _record(telemetry: Telemetry, outcome: StageOutcome) -> None:
    counted = _COUNTED.get(outcome.name)
    for name, package in outcome.packages.items():
        if package.status != counted:
            continue
        if outcome.name == "test":
            telemetry.record_tested(name)
        elif outcome.name == "build":
            telemetry.record_built(name)
            for path in package.facts.artifacts:
                if path.is_file():
                    telemetry.record_artifact(name, path.stat().st_size)
        else:
            telemetry.record_published(name)
