"""``poetflow run`` and ``poetflow plan`` end to end: real git, real builds, a real index."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.conftest import CliResult, git
from tests.index_server import IndexServer, start_index_server

RunCli = Callable[..., CliResult]
LOCAL_STAGES = "version,build,release,publish"


@pytest.fixture
def index(tmp_path: Path) -> Iterator[IndexServer]:
    server = start_index_server(tmp_path / "index")
    yield server
    server.stop()


@pytest.fixture
def released_demo(demo_repo: Path, index: IndexServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo with repository ``local`` pointing at the index and credentials set."""
    with (demo_repo / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write(f'\n[tool.poetflow.repositories.local]\nurl = "{index.url}"\n')
    git(demo_repo, "commit", "-q", "-am", "chore: publish to the local index")
    (demo_repo / "packages" / "core" / "src" / "acme_core" / "rates.py").write_text("RATE = 1\n")
    git(demo_repo, "add", "-A")
    git(demo_repo, "commit", "-q", "-m", "feat(core): exchange rates")
    monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_USERNAME", index.username)
    monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_PASSWORD", index.password)
    return demo_repo


def _versions(root: Path) -> dict[str, str]:
    from poetflow.workspace import load_workspace

    return {p.name: str(p.version) for p in load_workspace(root).packages}


@pytest.mark.slow
def test_full_pipeline_releases_and_publishes_everything(
    released_demo: Path, index: IndexServer, run_cli: RunCli
) -> None:
    result = run_cli("run", "--repository", "local", "--env", "shared", "--json", cwd=released_demo)
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["status"] == "succeeded"
    # sign: not requested; announce: no code host locally.
    assert [s["status"] for s in report["stages"]] == [
        "succeeded", "succeeded", "succeeded", "skipped", "succeeded", "succeeded", "skipped",
    ]  # fmt: skip
    # Locally there is no host to push the tags to: that is what the user is told.
    assert report["stages"][-1]["detail"].startswith("no code host to announce on")
    core = next(p for p in report["packages"] if p["name"] == "acme-core")
    assert (core["version_before"], core["version_after"]) == ("1.2.0", "1.3.0")
    assert core["tests"]["tests"] == 3
    assert len(core["artifacts"]) == 2
    assert all(a["published_to"] for a in core["artifacts"])
    assert len(index.files()) == 8
    tags = git(released_demo, "tag", "--points-at", "HEAD").split()
    assert sorted(tags) == [
        "acme-app-v0.9.1", "acme-core-v1.3.0", "acme-http-v0.4.2", "acme-storage-v2.0.4",
    ]  # fmt: skip
    assert git(released_demo, "status", "--porcelain", "--untracked-files=no") == ""
    assert (released_demo / ".poetflow" / "poetflow-report.json").is_file()
    assert (released_demo / ".poetflow" / "junit.xml").is_file()
    summary = (released_demo / ".poetflow" / "poetflow-summary.md").read_text()
    assert "1.2.0 → **1.3.0**" in summary

    again = run_cli("run", "--repository", "local", "--json", cwd=released_demo)
    assert again.exit_code == 0, again.stderr
    assert json.loads(again.stdout)["stages"][1]["detail"] == "nothing to release"
    assert len(index.files()) == 8


def test_failed_build_leaves_no_release_behind(released_demo: Path, run_cli: RunCli) -> None:
    pyproject = released_demo / "packages" / "http" / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('include = "acme_http"', 'include = "acme_missing"')
    )
    git(released_demo, "commit", "-q", "-am", "fix(http): break the build")
    head = git(released_demo, "rev-parse", "HEAD")
    before = _versions(released_demo)
    result = run_cli("run", "--stages", LOCAL_STAGES, "--repository", "local", cwd=released_demo)
    assert result.exit_code == 1
    assert "The build stage failed" in result.stderr
    assert "acme-http" in result.stderr
    # Versions and changelogs written by the version stage are put back; nothing committed.
    assert _versions(released_demo) == before
    assert git(released_demo, "status", "--porcelain", "--untracked-files=no") == ""
    assert git(released_demo, "rev-parse", "HEAD") == head
    assert git(released_demo, "tag") == ""


def test_failed_upload_is_resumed_by_a_rerun(
    released_demo: Path, index: IndexServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_PASSWORD", "wrong-password-123")
    first = run_cli("run", "--stages", LOCAL_STAGES, "--repository", "local", cwd=released_demo)
    assert first.exit_code == 1
    assert "The publish stage failed" in first.stderr
    assert "wrong-password-123" not in first.stdout + first.stderr
    assert index.files() == []
    assert "acme-core-v1.3.0" in git(released_demo, "tag").split()

    monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_PASSWORD", index.password)
    second = run_cli("run", "--stages", LOCAL_STAGES, "--repository", "local", cwd=released_demo)
    assert second.exit_code == 0, second.stderr
    assert len(index.files()) == 8
    assert _versions(released_demo)["acme-core"] == "1.3.0"  # not bumped a second time


def test_missing_credentials_stop_before_anything_changes(
    released_demo: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POETFLOW_REPOSITORY_LOCAL_PASSWORD")
    monkeypatch.delenv("POETFLOW_REPOSITORY_LOCAL_USERNAME")
    head = git(released_demo, "rev-parse", "HEAD")
    result = run_cli("run", "--stages", LOCAL_STAGES, "--repository", "local", cwd=released_demo)
    assert result.exit_code == 2
    assert "POETFLOW_REPOSITORY_LOCAL_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
    assert git(released_demo, "rev-parse", "HEAD") == head
    assert git(released_demo, "status", "--porcelain", "--untracked-files=no") == ""


def test_version_hooks_run_once_and_are_not_announced_as_would_run(
    demo_repo: Path, run_cli: RunCli, tmp_path: Path
) -> None:
    log = tmp_path / "hooked.log"
    with (demo_repo / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write(
            f'\n[tool.poetflow.hooks]\npre-version = ["echo $POETFLOW_PACKAGE >> {log}"]\n'
        )
    git(demo_repo, "commit", "-q", "-am", "chore: a hook")
    (demo_repo / "packages" / "core" / "src" / "acme_core" / "rates.py").write_text("RATE = 1\n")
    git(demo_repo, "add", "-A")
    git(demo_repo, "commit", "-q", "-m", "feat(core): exchange rates")
    result = run_cli("run", "--stages", "version", cwd=demo_repo)
    assert result.exit_code == 0, result.stderr
    # A real run must not print dry-run lines for hooks it runs for real.
    assert "would run" not in result.stderr
    ran = log.read_text().split()
    assert sorted(ran) == sorted(set(ran))
    assert "acme-core" in ran


def test_uncommitted_changes_in_a_package_stop_a_release_before_anything_changes(
    released_demo: Path, run_cli: RunCli
) -> None:
    readme = released_demo / "packages" / "http" / "README.md"
    readme.write_text(readme.read_text() + "\nNot committed yet.\n")
    (released_demo / "notes.txt").write_text("untracked, outside the packages\n")
    head = git(released_demo, "rev-parse", "HEAD")
    before = _versions(released_demo)

    refused = run_cli("run", "--stages", LOCAL_STAGES, "--repository", "local", cwd=released_demo)

    assert refused.exit_code == 2
    assert "uncommitted changes (packages/http/README.md)" in refused.stderr
    assert "--allow-dirty" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert git(released_demo, "rev-parse", "HEAD") == head
    assert git(released_demo, "tag") == ""
    assert _versions(released_demo) == before

    allowed = run_cli(
        "run", "--stages", "version,build,release", "--allow-dirty", cwd=released_demo
    )
    assert allowed.exit_code == 0, allowed.stderr
    assert "acme-core-v1.3.0" in git(released_demo, "tag").split()
    # The release commit holds PoetFlow's own files, never the user's uncommitted change.
    assert "packages/http/README.md" not in git(released_demo, "show", "--stat", "HEAD")
    assert git(released_demo, "status", "--porcelain", "--untracked-files=no").split() == [
        "M", "packages/http/README.md"
    ]  # fmt: skip


def test_unknown_stage_is_bad_usage(demo_repo: Path, run_cli: RunCli) -> None:
    result = run_cli("run", "--stages", "test,deploy", cwd=demo_repo)
    assert result.exit_code == 2
    assert "Unknown pipeline stage 'deploy'" in result.stderr


def test_dry_run_writes_nothing(demo_repo: Path, run_cli: RunCli) -> None:
    git(demo_repo, "commit", "-q", "--allow-empty", "-m", "feat(core): something new")
    result = run_cli("run", "--dry-run", "--skip", "publish", "--json", cwd=demo_repo)
    assert result.exit_code == 0, result.stderr
    assert git(demo_repo, "status", "--porcelain", "--untracked-files=no") == ""
    assert git(demo_repo, "tag") == ""
    assert not list(demo_repo.glob("packages/*/dist/*.whl"))


def test_plan_explains_and_fans_out(demo_repo: Path, run_cli: RunCli) -> None:
    base = git(demo_repo, "rev-parse", "HEAD")
    git(demo_repo, "tag", "-a", "acme-core-v1.2.0", "-m", "r")
    git(demo_repo, "tag", "-a", "acme-http-v0.4.1", "-m", "r")
    git(demo_repo, "tag", "-a", "acme-storage-v2.0.3", "-m", "r")
    git(demo_repo, "tag", "-a", "acme-app-v0.9.0", "-m", "r")
    (demo_repo / "packages" / "storage" / "src" / "acme_storage" / "fast.py").write_text("X=1\n")
    git(demo_repo, "add", "-A")
    git(demo_repo, "commit", "-q", "-m", "perf(storage): faster ledger")

    data = json.loads(run_cli("plan", "--json", cwd=demo_repo).stdout)
    by_name = {p["package"]: p for p in data["packages"]}
    assert set(by_name) == {"acme-storage", "acme-app"}
    assert by_name["acme-storage"]["next"] == "2.0.4"
    assert by_name["acme-storage"]["bump"] == "patch"

    matrix = json.loads(run_cli("plan", "--format", "github-matrix", cwd=demo_repo).stdout)
    assert matrix == {
        "include": [
            {"package": "acme-storage", "path": "packages/storage"},
            {"package": "acme-app", "path": "packages/app"},
        ]
    }
    import yaml

    pipeline = yaml.safe_load(run_cli("plan", "-f", "gitlab-pipeline", cwd=demo_repo).stdout)
    assert pipeline["release-acme-app"]["needs"] == ["release-acme-storage"]
    assert "--package acme-storage" in pipeline["release-acme-storage"]["script"][0]
    assert base  # the plan read history only


def test_the_report_folder_is_ignored_from_its_first_file(demo_repo: Path, run_cli: RunCli) -> None:
    # The JUnit file is written before the report; the folder must never show in git.
    result = run_cli(
        "run", "--stages", "test", "--env", "current", "-p", "acme-core", "--report-dir",
        "reports", cwd=demo_repo,
    )  # fmt: skip
    assert result.exit_code in (0, 1), result.stderr
    assert (demo_repo / "reports" / "junit.xml").is_file()
    ignore = (demo_repo / "reports" / ".gitignore").stat().st_mtime_ns
    assert ignore <= (demo_repo / "reports" / "junit.xml").stat().st_mtime_ns  # there first
    assert git(demo_repo, "status", "--porcelain", "--untracked-files=all") == ""
