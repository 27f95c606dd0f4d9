"""The run report: ``poetflow-report.json`` (versioned schema) and its Markdown summary.

Schema: ``poetflow/schemas/report.schema.json``. ``schema_version`` changes only when a
field is removed or changes meaning; readers must ignore fields they do not know.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from poetflow.errors import UsageError
from poetflow.files import atomic_write_text, private_directory
from poetflow.masking import mask

if TYPE_CHECKING:
    from poetflow.pipeline.runner import PipelineResult
    from poetflow.workspace import Package

__all__ = [
    "DEFAULT_REPORT_DIR",
    "REPORT_FILENAME",
    "SCHEMA_VERSION",
    "SUMMARY_FILENAME",
    "ArtifactRecord",
    "PackageRecord",
    "ReportError",
    "RunReport",
    "StageRecord",
    "TestCounts",
    "artifact_record",
    "build_run_report",
    "ci_outputs",
    "mermaid_gantt",
    "mermaid_graph",
    "read_report",
    "render_markdown",
    "schema_path",
    "write_report",
]

SCHEMA_VERSION = 1
REPORT_FILENAME = "poetflow-report.json"
SUMMARY_FILENAME = "poetflow-summary.md"
DEFAULT_REPORT_DIR = Path(".poetflow")

RunStatus = Literal["succeeded", "failed", "error"]
StageStatus = Literal["succeeded", "failed", "skipped"]


class ReportError(UsageError):
    """A report file cannot be read: missing, not JSON, or a schema version we do not know."""


@dataclass(frozen=True)
class TestCounts:
    """Test case counts of one package, as its JUnit XML reports them."""

    __test__ = False

    tests: int = 0
    failures: int = 0
    errors: int = 0
    skipped: int = 0

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped

    def __add__(self, other: TestCounts) -> TestCounts:
        return TestCounts(
            self.tests + other.tests,
            self.failures + other.failures,
            self.errors + other.errors,
            self.skipped + other.skipped,
        )


@dataclass(frozen=True)
class StageRecord:
    """One stage for one package (or for the whole run): status, duration, a short detail."""

    name: str
    status: str  # per package: stage-specific (passed, built, uploaded, skipped, failed, ...)
    duration: float = 0.0
    detail: str = ""
    # Seconds from the start of the run to the start of the stage. The packages of a stage
    # share its start: they run in dependency order, ``jobs`` at a time, inside it.
    started: float = 0.0

    @property
    def failed(self) -> bool:
        return self.status in ("failed", "error")


@dataclass(frozen=True)
class ArtifactRecord:
    """A built file: path relative to the monorepo root, size, sha256, where it was uploaded."""

    path: str
    sha256: str
    size: int
    published_to: tuple[str, ...] = ()
    signed: bool = False


@dataclass(frozen=True)
class PackageRecord:
    """Everything the run did to one package."""

    name: str
    path: str
    version_before: str | None
    version_after: str | None
    stages: tuple[StageRecord, ...] = ()
    artifacts: tuple[ArtifactRecord, ...] = ()
    tests: TestCounts | None = None
    # The packages of the same report it needs at run time (the summary's graph).
    dependencies: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return any(stage.failed for stage in self.stages)

    @property
    def published_to(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for artifact in self.artifacts:
            for where in artifact.published_to:
                seen.setdefault(where, None)
        return tuple(seen)

    @property
    def released(self) -> bool:
        """Published by this run. A rerun finds its files on the index already: the publish
        stage is then "skipped", and the URLs in ``published_to`` are where they were."""
        publish = [stage for stage in self.stages if stage.name == "publish"]
        if publish:
            return any(stage.status in ("published", "uploaded") for stage in publish)
        return bool(self.published_to)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class RunReport:
    """One PoetFlow run: the command, its outcome, the pipeline stages and every package."""

    command: str
    status: RunStatus
    exit_code: int
    packages: tuple[PackageRecord, ...] = ()
    stages: tuple[StageRecord, ...] = ()
    dry_run: bool = False
    duration: float = 0.0
    root: str = ""
    started_at: str = field(default_factory=_now)
    ci: Mapping[str, str] = field(default_factory=dict)
    junit: tuple[str, ...] = ()
    note: str = ""
    schema_version: int = SCHEMA_VERSION

    @property
    def released(self) -> tuple[PackageRecord, ...]:
        return tuple(package for package in self.packages if package.released)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "command": self.command,
            "status": self.status,
            "exit_code": self.exit_code,
            "dry_run": self.dry_run,
            "started_at": self.started_at,
            "duration": round(self.duration, 3),
            "root": self.root,
            "ci": dict(self.ci),
            "junit": list(self.junit),
            **({"note": self.note} if self.note else {}),
            "stages": [_stage_dict(stage) for stage in self.stages],
            "packages": [_package_dict(package) for package in self.packages],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunReport:
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ReportError(
                f"The run report has schema_version {version!r}; this PoetFlow reads "
                f"version {SCHEMA_VERSION}.",
                hint="Read it with the PoetFlow version that wrote it.",
            )
        return cls(
            command=str(data["command"]),
            status=data["status"],
            exit_code=int(data["exit_code"]),
            packages=tuple(_package_from(item) for item in data.get("packages", ())),
            stages=tuple(_stage_from(item) for item in data.get("stages", ())),
            dry_run=bool(data.get("dry_run", False)),
            duration=float(data.get("duration", 0.0)),
            root=str(data.get("root", "")),
            started_at=str(data.get("started_at", "")),
            ci=dict(data.get("ci", {})),
            junit=tuple(data.get("junit", ())),
            note=str(data.get("note", "")),
        )


def _stage_dict(stage: StageRecord) -> dict[str, Any]:
    return {
        "name": stage.name,
        "status": stage.status,
        "duration": round(stage.duration, 3),
        "started": round(stage.started, 3),
        "detail": stage.detail,
    }


def _stage_from(data: Mapping[str, Any]) -> StageRecord:
    return StageRecord(
        str(data["name"]),
        str(data["status"]),
        float(data.get("duration", 0.0)),
        str(data.get("detail", "")),
        float(data.get("started", 0.0)),
    )


def _package_dict(package: PackageRecord) -> dict[str, Any]:
    return {
        "name": package.name,
        "path": package.path,
        "version_before": package.version_before,
        "version_after": package.version_after,
        "status": "failed" if package.failed else "succeeded",
        "stages": [_stage_dict(stage) for stage in package.stages],
        "artifacts": [
            {
                "path": artifact.path,
                "sha256": artifact.sha256,
                "size": artifact.size,
                "published_to": list(artifact.published_to),
                "signed": artifact.signed,
            }
            for artifact in package.artifacts
        ],
        "published_to": list(package.published_to),
        "dependencies": list(package.dependencies),
        "tests": None
        if package.tests is None
        else {
            "tests": package.tests.tests,
            "failures": package.tests.failures,
            "errors": package.tests.errors,
            "skipped": package.tests.skipped,
        },
    }


def _package_from(data: Mapping[str, Any]) -> PackageRecord:
    tests = data.get("tests")
    return PackageRecord(
        name=str(data["name"]),
        path=str(data["path"]),
        version_before=data.get("version_before"),
        version_after=data.get("version_after"),
        stages=tuple(_stage_from(item) for item in data.get("stages", ())),
        artifacts=tuple(
            ArtifactRecord(
                path=str(item["path"]),
                sha256=str(item["sha256"]),
                size=int(item["size"]),
                published_to=tuple(item.get("published_to", ())),
                signed=bool(item.get("signed", False)),
            )
            for item in data.get("artifacts", ())
        ),
        tests=None if tests is None else TestCounts(**tests),
        dependencies=tuple(data.get("dependencies", ())),
    )


def artifact_record(
    path: Path, root: Path, *, published_to: Sequence[str] = (), signed: bool = False
) -> ArtifactRecord:
    """Hash a built file (streamed: wheels can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    try:
        shown = path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        shown = str(path)
    return ArtifactRecord(
        shown, digest.hexdigest(), path.stat().st_size, tuple(published_to), signed
    )


def write_report(report: RunReport, directory: Path = DEFAULT_REPORT_DIR) -> Path:
    """Write ``poetflow-report.json`` and ``poetflow-summary.md`` into ``directory``."""
    try:
        private_directory(directory)
        target = directory / REPORT_FILENAME
        # Details carry hook and build output: the file passes through the mask too.
        atomic_write_text(target, mask(json.dumps(report.to_dict(), indent=2)) + "\n")
        atomic_write_text(directory / SUMMARY_FILENAME, render_markdown(report))
    except OSError as exc:
        raise ReportError(
            f"Cannot write the run report to {directory}: {exc.strerror or exc}.",
            hint="Point --report-dir at a writable folder.",
        ) from exc
    return target


def read_report(path: Path) -> RunReport:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReportError(f"No run report at {path}.") from exc
    except (OSError, ValueError) as exc:
        raise ReportError(f"The run report {path} is not readable JSON: {exc}.") from exc
    if not isinstance(data, dict):
        raise ReportError(f"The run report {path} is not a JSON object.")
    return RunReport.from_dict(data)


def schema_path() -> Path:
    """The JSON Schema of the report (shipped inside the package)."""
    return Path(__file__).resolve().parent / "schemas" / "report.schema.json"


# --- from a pipeline run ----------------------------------------------------------------


def build_run_report(
    command: str,
    result: PipelineResult,
    packages: Sequence[Package],
    *,
    root: Path,
    exit_code: int,
    versions_before: Mapping[str, str | None] | None = None,
    dry_run: bool = False,
    ci: Mapping[str, str] | None = None,
) -> RunReport:
    """The report of one command's stages (every command runs through ``run_stages``).

    ``packages`` are the packages the command worked on, as they are after it;
    ``versions_before`` their versions before it. What each stage learnt about a package
    comes from its outcome's :class:`~poetflow.pipeline.runner.PackageFacts`.
    """
    before = dict(versions_before or {})
    involved = {package.name for package in packages}
    records = []
    for package in packages:
        stages: list[StageRecord] = []
        version_after = package.version
        files: list[Path] = []
        published: dict[str, list[str]] = {}
        signed: set[str] = set()
        tests: TestCounts | None = None
        for outcome in result.outcomes:
            own = outcome.packages.get(package.name)
            if own is None:
                continue
            stages.append(
                StageRecord(outcome.name, own.status, own.duration, own.detail, outcome.started)
            )
            facts = own.facts
            if facts.version is not None:
                version_after = facts.version
            files += facts.artifacts
            for name, urls in facts.published_to.items():
                published.setdefault(Path(name).name, []).extend(urls)
            signed.update(Path(name).name for name in facts.signed)
            if facts.tests is not None:
                tests = facts.tests
        unique = list(dict.fromkeys(path.resolve() for path in files))
        artifacts = tuple(
            artifact_record(
                path,
                root,
                published_to=list(dict.fromkeys(published.get(path.name, []))),
                signed=path.name in signed,
            )
            for path in unique
            if path.is_file()
        )
        records.append(
            PackageRecord(
                package.name,
                package.relpath,
                before.get(package.name, package.version),
                version_after,
                tuple(stages),
                artifacts,
                tests,
                tuple(d for d in package.runtime_dependencies if d in involved),
            )
        )
    status: RunStatus = "succeeded" if exit_code == 0 else ("error" if exit_code == 2 else "failed")
    junit = [outcome.junit for outcome in result.outcomes if outcome.junit is not None]
    return RunReport(
        command=command,
        status=status,
        exit_code=exit_code,
        packages=tuple(records),
        stages=tuple(
            StageRecord(o.name, o.status, o.duration, o.summary, o.started) for o in result.outcomes
        ),
        dry_run=dry_run,
        duration=result.duration,
        root=str(root),
        ci=dict(ci or {}),
        junit=tuple(str(path) for path in junit),
    )


# --- Markdown ------------------------------------------------------------------------------

_ICONS = {"succeeded": "✅", "failed": "❌", "error": "❌"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _version_cell(package: PackageRecord) -> str:
    before, after = package.version_before or "-", package.version_after or "-"
    return f"{before} → **{after}**" if before != after else before


def _tests_cell(package: PackageRecord) -> str:
    counts = package.tests
    if counts is None:
        return "-"
    bad = counts.failures + counts.errors
    text = f"{counts.passed}/{counts.tests} passed"
    return f"{text}, {bad} failed" if bad else text


def _artifacts_cell(package: PackageRecord) -> str:
    if not package.artifacts:
        return "-"
    return "<br>".join(f"`{Path(a.path).name}`" for a in package.artifacts)


def render_markdown(report: RunReport) -> str:
    """The job summary: one table row per package, then the failures with their details."""
    icon = _ICONS.get(report.status, "")
    dry = " (dry run)" if report.dry_run else ""
    lines = [
        f"## {icon} PoetFlow `{_cell(report.command)}`{dry}: {report.status}".replace("  ", " "),
        "",
    ]
    if report.stages:
        lines.append(
            "Stages: "
            + ", ".join(f"{s.name} {s.status} ({s.duration:.1f}s)" for s in report.stages)
        )
        lines.append("")
    if report.note:
        lines += [report.note, ""]
    if report.packages:
        lines += [
            "| Package | Version | Tests | Artifacts | Published | Signed | Status |",
            "| --- | --- | --- | --- | --- | --- | --- |",
        ]
        for package in report.packages:
            signed = (
                "yes" if package.artifacts and all(a.signed for a in package.artifacts) else "-"
            )
            published = "<br>".join(_cell(where) for where in package.published_to) or "-"
            status = "❌ failed" if package.failed else "✅"
            lines.append(
                f"| {_cell(package.name)} | {_version_cell(package)} | {_tests_cell(package)} "
                f"| {_artifacts_cell(package)} | {published} | {signed} | {status} |"
            )
    elif not report.note:
        lines.append("No packages were selected.")
    failures = [
        (package.name, stage)
        for package in report.packages
        for stage in package.stages
        if stage.failed
    ]
    failures += [("(run)", stage) for stage in report.stages if stage.failed]
    if failures:
        lines += ["", "### Failures", ""]
        for name, stage in failures:
            detail = f": {_cell(stage.detail)}" if stage.detail else ""
            lines.append(f"- **{_cell(name)}** — {stage.name} {stage.status}{detail}")
    lines += _mermaid_sections(report)
    if lines[-1]:
        lines.append("")
    lines += [f"_{report.duration:.1f}s · exit code {report.exit_code}_", ""]
    return mask("\n".join(lines))


# --- Mermaid (GitHub and GitLab render both in Markdown) ---------------------------------

# Stage statuses that did no work: left out of the timeline.
_IDLE = frozenset({"skipped", "unchanged", "up to date", "cached", "blocked"})


def _mermaid_sections(report: RunReport) -> list[str]:
    """The released packages as a dependency graph, then each package's stages on a
    timeline; nothing when the run changed no version and ran no stage."""
    lines: list[str] = []
    graph = mermaid_graph(report)
    if graph:
        lines += ["", "### Released packages", "", "```mermaid", *graph, "```"]
    gantt = mermaid_gantt(report)
    if gantt:
        lines += ["", "### Timeline", "", "```mermaid", *gantt, "```"]
    return lines


def _released_or_bumped(report: RunReport) -> list[PackageRecord]:
    return [
        package
        for package in report.packages
        if package.released or package.version_before != package.version_after
    ]


def _label(text: str) -> str:
    # Inside a quoted Mermaid label only the quote itself needs an entity.
    return text.replace('"', "#quot;")


def mermaid_graph(report: RunReport) -> list[str]:
    """``graph LR`` of the packages this run released (or bumped, in a dry run), an edge
    from each to the released packages it depends on."""
    packages = _released_or_bumped(report)
    ids = {package.name: f"p{index}" for index, package in enumerate(packages)}
    if not ids:
        return []
    lines = ["graph LR"]
    for package in packages:
        version = _version_text(package)
        lines.append(f'  {ids[package.name]}["{_label(package.name)}<br/>{_label(version)}"]')
    for package in packages:
        for dependency in package.dependencies:
            if dependency in ids:
                lines.append(f"  {ids[package.name]} --> {ids[dependency]}")
    return lines


def _version_text(package: PackageRecord) -> str:
    before, after = package.version_before or "-", package.version_after or "-"
    return f"{before} → {after}" if before != after else after


def _task_name(text: str) -> str:
    # ":" ends a Gantt task's name and "#"/";" start comments and entities.
    return text.replace(":", " ").replace("#", " ").replace(";", " ")


def mermaid_gantt(report: RunReport) -> list[str]:
    """A ``gantt`` chart: a section per package, a bar per stage that did work, from the
    stage's start for the package's own duration (milliseconds since the run started)."""
    sections: list[str] = []
    for package in report.packages:
        bars = []
        for stage in package.stages:
            if stage.status in _IDLE:
                continue
            start = round(stage.started * 1000)
            # A bar needs a width to be seen; a stage of a few milliseconds gets one.
            end = start + max(round(stage.duration * 1000), 10)
            tag = "crit, " if stage.failed else "done, "
            name = _task_name(f"{stage.name} {stage.status}")
            bars.append(f"  {name} ({stage.duration:.1f}s) :{tag}{start}, {end}")
        if bars:
            sections += [f"  section {_task_name(package.name)}", *bars]
    if not sections:
        return []
    return ["gantt", "  dateFormat x", "  axisFormat %M:%S", *sections]


# --- CI outputs ----------------------------------------------------------------------------


def ci_outputs(report: RunReport | None, report_file: Path | None) -> dict[str, str]:
    """The step outputs every CI system is handed (action.yml's ``outputs``): plain
    strings, JSON where a list; ``artifacts`` lists every artifact with its sha256."""
    packages: Sequence[PackageRecord] = report.packages if report else ()
    released = report.released if report else ()
    return {
        "released": "true" if released else "false",
        "packages": json.dumps([package.name for package in packages]),
        "versions": json.dumps({package.name: package.version_after for package in packages}),
        "released-packages": json.dumps([package.name for package in released]),
        "matrix": json.dumps(
            {"include": [{"package": package.name, "path": package.path} for package in packages]}
        ),
        "artifacts": json.dumps(
            [
                {"package": package.name, "path": artifact.path, "sha256": artifact.sha256}
                for package in packages
                for artifact in package.artifacts
            ]
        ),
        "report": str(report_file) if report_file else "",
    }
