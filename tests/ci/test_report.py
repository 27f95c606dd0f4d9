"""The run report: schema-valid JSON written atomically, read back, and its Markdown summary."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest

from poetflow.report import (
    REPORT_FILENAME,
    SUMMARY_FILENAME,
    PackageRecord,
    ReportError,
    RunReport,
    StageRecord,
    TestCounts,
    artifact_record,
    build_run_report,
    ci_outputs,
    read_report,
    render_markdown,
    schema_path,
    write_report,
)


def _release_report(tmp_path: Path) -> RunReport:
    wheel = tmp_path / "packages" / "core" / "dist" / "acme_core-1.3.0-py3-none-any.whl"
    wheel.parent.mkdir(parents=True)
    wheel.write_bytes(b"wheel bytes")
    artifact = artifact_record(
        wheel, tmp_path, published_to=["https://pypi.org/project/acme-core/1.3.0/"], signed=True
    )
    return RunReport(
        command="run --since origin/main",
        status="failed",
        exit_code=1,
        root=str(tmp_path),
        duration=12.5,
        stages=(StageRecord("test", "failed", 3.2),),
        packages=(
            PackageRecord(
                "acme-core",
                "packages/core",
                "1.2.0",
                "1.3.0",
                stages=(StageRecord("test", "passed", 1.0), StageRecord("publish", "uploaded")),
                artifacts=(artifact,),
                tests=TestCounts(tests=5, skipped=1),
            ),
            PackageRecord(
                "acme-http",
                "packages/http",
                "0.4.0",
                "0.4.0",
                stages=(StageRecord("test", "failed", 2.2, "2 tests failed | see log"),),
                tests=TestCounts(tests=4, failures=2),
            ),
        ),
    )


def test_report_is_schema_valid_and_round_trips(tmp_path: Path) -> None:
    report = _release_report(tmp_path)
    target = write_report(report, tmp_path / ".poetflow")
    assert target.name == REPORT_FILENAME
    data = json.loads(target.read_text())
    jsonschema.validate(data, json.loads(schema_path().read_text()))
    assert data["schema_version"] == 1
    core = data["packages"][0]
    assert core["artifacts"][0]["sha256"] == hashlib.sha256(b"wheel bytes").hexdigest()
    assert core["artifacts"][0]["path"] == "packages/core/dist/acme_core-1.3.0-py3-none-any.whl"
    assert core["published_to"] == ["https://pypi.org/project/acme-core/1.3.0/"]
    assert data["packages"][1]["status"] == "failed"
    assert read_report(target) == report
    # Written atomically: no temporary files are left beside the report.
    names = sorted(p.name for p in target.parent.iterdir())
    assert names == [".gitignore", REPORT_FILENAME, SUMMARY_FILENAME]


def test_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    target = tmp_path / REPORT_FILENAME
    target.write_text(json.dumps({"schema_version": 99, "command": "run"}))
    with pytest.raises(ReportError, match="schema_version 99"):
        read_report(target)


def test_unwritable_report_dir_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ReportError, match="Cannot write the run report") as caught:
        write_report(_release_report(tmp_path), blocker / "sub")
    assert caught.value.exit_code == 2


def test_markdown_summary_shows_versions_tests_artifacts_and_failures(tmp_path: Path) -> None:
    text = render_markdown(_release_report(tmp_path))
    assert "| acme-core | 1.2.0 → **1.3.0** | 4/5 passed |" in text
    assert "`acme_core-1.3.0-py3-none-any.whl`" in text
    assert "https://pypi.org/project/acme-core/1.3.0/ | yes |" in text
    assert "| acme-http | 0.4.0 | 2/4 passed, 2 failed |" in text
    assert "- **acme-http** — test failed: 2 tests failed \\| see log" in text


def test_secrets_never_reach_the_summary(tmp_path: Path) -> None:
    from poetflow.masking import register_secret

    register_secret("pypi-SECRET-token-123")
    report = RunReport(
        "publish",
        "failed",
        1,
        stages=(StageRecord("publish", "failed", 0, "pypi-SECRET-token-123"),),
    )
    assert "pypi-SECRET-token-123" not in render_markdown(report)


def test_ci_outputs(tmp_path: Path) -> None:
    outputs = ci_outputs(_release_report(tmp_path), Path(".poetflow/poetflow-report.json"))
    assert outputs["released"] == "true"
    assert json.loads(outputs["packages"]) == ["acme-core", "acme-http"]
    assert json.loads(outputs["versions"]) == {"acme-core": "1.3.0", "acme-http": "0.4.0"}
    assert json.loads(outputs["released-packages"]) == ["acme-core"]
    assert json.loads(outputs["matrix"])["include"][0] == {
        "package": "acme-core",
        "path": "packages/core",
    }
    artifacts = json.loads(outputs["artifacts"])
    assert artifacts[0] == {
        "package": "acme-core",
        "path": "packages/core/dist/acme_core-1.3.0-py3-none-any.whl",
        "sha256": hashlib.sha256(b"wheel bytes").hexdigest(),
    }
    assert ci_outputs(None, None)["released"] == "false"


def test_a_minimal_report_says_why_it_lists_no_package(tmp_path: Path) -> None:
    from poetflow.ci.handover import minimal_report

    report = minimal_report(
        "poetflow build --package nope",
        2,
        duration=0.2,
        dry_run=True,
        errors=["No package named 'nope' in this workspace."],
    )
    data = json.loads(write_report(report, tmp_path).read_text())
    jsonschema.validate(data, json.loads(schema_path().read_text()))
    assert data["status"] == "error"
    assert (
        data["note"]
        == "It stopped before it had a report: No package named 'nope' in this workspace."
    )
    assert read_report(tmp_path / REPORT_FILENAME) == report
    summary = render_markdown(report)
    assert "It stopped before it had a report" in summary
    assert "No packages were selected" not in summary
    assert "(dry run)" in summary
    # A full report carries no note.
    assert "note" not in _release_report(tmp_path).to_dict()


def test_report_from_a_pipeline_run(demo_repo: Path) -> None:
    from poetflow.pipeline.runner import (
        PackageFacts,
        PackageOutcome,
        PipelineResult,
        StageOutcome,
    )
    from poetflow.report import TestCounts as QaCounts
    from poetflow.workspace import load_workspace

    workspace = load_workspace(demo_repo)
    core = workspace.by_name["acme-core"]
    dist = core.path / "dist"
    dist.mkdir()
    wheel = dist / "acme_core-1.3.0-py3-none-any.whl"
    sdist = dist / "acme_core-1.3.0.tar.gz"
    wheel.write_bytes(b"w")
    sdist.write_bytes(b"s")
    result = PipelineResult(
        (
            StageOutcome(
                "test",
                "succeeded",
                packages={
                    "acme-core": PackageOutcome("passed", facts=PackageFacts(tests=QaCounts(3)))
                },
            ),
            StageOutcome(
                "version",
                "succeeded",
                packages={
                    "acme-core": PackageOutcome("bumped", facts=PackageFacts(version="1.3.0"))
                },
            ),
            StageOutcome(
                "build",
                "succeeded",
                packages={
                    "acme-core": PackageOutcome(
                        "built", facts=PackageFacts(artifacts=(wheel, sdist))
                    )
                },
            ),
            StageOutcome(
                "publish",
                "failed",
                packages={
                    "acme-core": PackageOutcome(
                        "failed",
                        "503 from the index",
                        facts=PackageFacts(
                            published_to={wheel.name: ("https://pkgs.example/acme-core/",)},
                            signed=(wheel.name, sdist.name),
                        ),
                    )
                },
            ),
        ),
        4.0,
    )
    report = build_run_report(
        "run",
        result,
        [core],
        root=workspace.root,
        exit_code=1,
        versions_before={"acme-core": "1.2.0"},
    )
    (package,) = report.packages
    assert (package.version_before, package.version_after) == ("1.2.0", "1.3.0")
    assert [stage.name for stage in package.stages] == ["test", "version", "build", "publish"]
    assert package.failed
    assert package.tests == TestCounts(tests=3)
    by_name = {Path(a.path).name: a for a in package.artifacts}
    assert by_name[wheel.name].published_to == ("https://pkgs.example/acme-core/",)
    assert by_name[sdist.name].published_to == ()
    assert all(a.signed for a in package.artifacts)
    assert report.status == "failed"
    assert [stage.status for stage in report.stages][-1] == "failed"
    data = json.loads(write_report(report, demo_repo / ".poetflow").read_text())
    jsonschema.validate(data, json.loads(schema_path().read_text()))


def test_a_rerun_that_finds_its_files_on_the_index_released_nothing(tmp_path: Path) -> None:
    # Found by running release.yml twice in act: the rerun's outputs said released=true.
    sdist = tmp_path / "packages" / "core" / "dist" / "acme_core-1.3.0.tar.gz"
    sdist.parent.mkdir(parents=True)
    sdist.write_bytes(b"sdist")
    url = "https://pkgs.example/packages/acme_core-1.3.0.tar.gz"
    artifact = artifact_record(sdist, tmp_path, published_to=[url])

    def record(status: str) -> PackageRecord:
        return PackageRecord(
            "acme-core", "packages/core", "1.3.0", "1.3.0",
            stages=(StageRecord("publish", status),), artifacts=(artifact,),
        )  # fmt: skip

    assert record("published").released
    rerun = record("skipped")
    assert rerun.published_to == (url,)  # where the file is, still reported
    assert not rerun.released
    report = RunReport(command="run", status="succeeded", exit_code=0, packages=(rerun,))
    assert ci_outputs(report, None)["released"] == "false"


def test_the_summary_draws_the_released_graph_and_a_timeline(demo_repo: Path) -> None:
    from poetflow.pipeline.runner import PackageFacts, PackageOutcome, PipelineResult, StageOutcome
    from poetflow.workspace import load_workspace

    workspace = load_workspace(demo_repo)
    bumped = {"acme-core": "2.0.0", "acme-http": "0.4.2", "acme-app": "0.9.1"}
    result = PipelineResult(
        (
            StageOutcome(
                "test",
                "succeeded",
                packages={name: PackageOutcome("passed", duration=1.5) for name in bumped}
                | {"acme-storage": PackageOutcome("cached")},
                duration=2.0,
                started=0.0,
            ),
            StageOutcome(
                "version",
                "succeeded",
                packages={
                    name: PackageOutcome("bumped", facts=PackageFacts(version=version))
                    for name, version in bumped.items()
                },
                duration=0.5,
                started=2.0,
            ),
            StageOutcome(
                "publish",
                "failed",
                packages={"acme-app": PackageOutcome("failed", "503: index down", duration=0.25)},
                duration=0.3,
                started=2.5,
            ),
        ),
        3.0,
    )
    report = build_run_report(
        "poetflow run",
        result,
        list(workspace.packages),
        root=workspace.root,
        exit_code=1,
        versions_before={p.name: p.version for p in workspace.packages},
    )
    summary = render_markdown(report)
    graph = summary.split("### Released packages")[1].split("```")[1]
    # The bumped packages only (acme-storage released nothing), an edge to each dependency.
    assert graph.count("[") == 3
    assert '"acme-core<br/>1.2.0 → 2.0.0"' in graph
    assert "acme-storage" not in graph
    ids = {line.split("[")[0].strip(): line for line in graph.splitlines() if "[" in line}
    edges = {tuple(line.split(" --> ")) for line in graph.strip().splitlines() if "-->" in line}
    named = {
        (ids[a.strip()].split('"')[1].split("<")[0], ids[b.strip()].split('"')[1].split("<")[0])
        for a, b in edges
    }
    assert named == {("acme-http", "acme-core"), ("acme-app", "acme-http")}

    gantt = summary.split("### Timeline")[1].split("```")[1].strip().splitlines()
    assert gantt[:3] == ["mermaid", "gantt", "  dateFormat x"]
    assert "  section acme-app" in gantt
    assert "  test passed (1.5s) :done, 0, 1500" in gantt
    assert "  version bumped (0.0s) :done, 2000, 2010" in gantt
    assert "  publish failed (0.2s) :crit, 2500, 2750" in gantt
    assert "  section acme-storage" not in gantt  # a cached test did no work
    # The stage start offsets are in the report file too.
    data = report.to_dict()
    assert [stage["started"] for stage in data["stages"]] == [0.0, 2.0, 2.5]
    deps = {package["name"]: package["dependencies"] for package in data["packages"]}
    assert deps["acme-http"] == ["acme-core"]
    assert sorted(deps["acme-app"]) == ["acme-http", "acme-storage"]
