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
    assert sorted(p.name for p in target.parent.iterdir()) == [REPORT_FILENAME, SUMMARY_FILENAME]


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
    assert ci_outputs(None, None)["released"] == "false"
