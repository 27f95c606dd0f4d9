"""A publisher plugin is a publish target like an index: existence checks, order, blocked
dependents, lost answers, hooks, reporters and the report, through the one publish engine."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "publish"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from publish_fixtures import DIAMOND, build_package, write_package, write_workspace

from index_server import IndexServer, start_index_server
from poetflow.publish.engine import publish_packages
from poetflow.publish.results import PublishOptions, PublishReport
from poetflow.workspace import load_workspace

# A folder store that logs every call, fails or loses answers on request (by variable).
STORE_MODULE = """
import hashlib, json, os, shutil
from pathlib import Path
from poetflow.plugins import PublishedFile, StoredFile


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _log(*entry):
    with open(os.environ["STORE_LOG"], "a") as handle:
        handle.write(json.dumps(entry) + "\\n")


class Store:
    name = "store"
    api_version = "1.1"

    def lookup(self, package, options):
        _log("lookup", package)
        folder = Path(options["store"]) / package
        if not folder.is_dir():
            return []
        return [StoredFile(p.name, _digest(p), p.as_uri()) for p in sorted(folder.iterdir())]

    def publish(self, request):
        _log("publish", request.package, [p.name for p in request.files])
        if request.package == os.environ.get("STORE_FAIL"):
            raise ConnectionError("the store is down")
        folder = Path(request.options["store"]) / request.package
        folder.mkdir(parents=True, exist_ok=True)
        for path in request.files:
            shutil.copy2(path, folder / path.name)
        if request.package == os.environ.get("STORE_LOSE_ANSWER"):
            raise TimeoutError("the answer was lost")
        return [PublishedFile(p, "uploaded", (folder / p.name).as_uri()) for p in request.files]
"""

REPORTER_MODULE = """
import json, os


class Reporter:
    name = "seen"
    api_version = "1.1"

    def report(self, event):
        with open(os.environ["REPORTS_LOG"], "a") as handle:
            handle.write(json.dumps([event.kind, event.stage, event.package, event.ok]) + "\\n")
"""


@pytest.fixture
def store_plugin(
    plugin_site: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    plugin_site(
        "poetflow-store",
        entry_points={
            "poetflow.publishers": {"store": "store_plugin:Store"},
            "poetflow.reporters": {"seen": "seen_reporter:Reporter"},
        },
        modules={"store_plugin": STORE_MODULE, "seen_reporter": REPORTER_MODULE},
    )
    monkeypatch.setenv("STORE_LOG", str(tmp_path / "store.log"))
    monkeypatch.setenv("REPORTS_LOG", str(tmp_path / "reports.log"))
    return tmp_path / "store"


def _mono(root: Path, store: Path, hooks: str = "") -> Path:
    write_workspace(root, DIAMOND)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text() + f'\n[tool.poetflow.publish.options]\nstore = "{store}"\n'
    pyproject.write_text(text + hooks)
    return root


def _log(path: Path) -> list[list[Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def _publish(root: Path, **options: Any) -> PublishReport:
    workspace = load_workspace(root)
    defaults: dict[str, Any] = {"publisher": "store", "build": False, "jobs": 2}
    return publish_packages(
        workspace, workspace.packages, PublishOptions(**{**defaults, **options})
    )


def _statuses(report: PublishReport) -> dict[str, tuple[str, tuple[str, ...]]]:
    return {p.name: (p.status, tuple(f.status for f in p.files)) for p in report.packages}


def test_files_the_plugin_holds_are_skipped_and_never_handed_to_it(
    store_plugin: Path, tmp_path: Path
) -> None:
    root = _mono(tmp_path / "mono", store_plugin)
    log = tmp_path / "store.log"

    first = _publish(root)
    assert first.ok
    assert {name: status for name, (status, _files) in _statuses(first).items()} == dict.fromkeys(
        DIAMOND, "published"
    )
    handed = [entry[1] for entry in _log(log) if entry[0] == "publish"]
    assert handed.index("acme-core") < handed.index("acme-http") < handed.index("acme-app")
    assert handed.index("acme-storage") < handed.index("acme-app")
    wheel = next(f for f in first.packages[0].files if f.kind == "wheel")
    assert wheel.url == (store_plugin / "acme-core" / wheel.filename).as_uri()

    log.unlink()
    again = _publish(root)
    assert again.ok
    assert again.count("skipped") == 8
    assert {p.status for p in again.packages} == {"skipped"}
    assert [entry[0] for entry in _log(log)] == ["lookup"] * 4  # nothing handed over

    dry = _publish(root, dry_run=True)
    assert dry.count("skipped") == 8


def test_a_dry_run_answers_from_the_lookup_and_never_calls_publish(
    store_plugin: Path, tmp_path: Path
) -> None:
    root = _mono(tmp_path / "mono", store_plugin)
    report = _publish(root, dry_run=True)
    assert {p.status for p in report.packages} == {"would publish"}
    assert report.count("would upload") == 8
    assert "publish" not in [entry[0] for entry in _log(tmp_path / "store.log")]
    assert not store_plugin.exists()


def test_the_plugin_and_an_index_report_the_same_for_the_same_situation(
    store_plugin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """acme-http 0.1.0 is already there, built from other sources: http fails before
    anything of it is uploaded, app (which needs it) is blocked, the rest goes up."""
    server: IndexServer = start_index_server(tmp_path / "index")
    try:
        other = write_package(tmp_path / "other", "acme-http", ["acme-core"], marker="other")
        other_files = build_package(other)
        for path in other_files:  # in the plugin's store and on the index
            stored = store_plugin / "acme-http" / path.name
            stored.parent.mkdir(parents=True, exist_ok=True)
            stored.write_bytes(path.read_bytes())
            (server.packages_dir / path.name).write_bytes(path.read_bytes())
        monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_USERNAME", server.username)
        monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_PASSWORD", server.password)

        by_plugin = _publish(_mono(tmp_path / "a", store_plugin))
        index_root = write_workspace(tmp_path / "b", DIAMOND, server.url)
        by_index = _publish(index_root, publisher=None, repository="local")
    finally:
        server.stop()

    expected = {
        "acme-core": ("published", ("uploaded", "uploaded")),
        "acme-http": ("failed", ("failed", "failed")),
        "acme-storage": ("published", ("uploaded", "uploaded")),
        "acme-app": ("blocked", ("blocked", "blocked")),
    }
    assert _statuses(by_plugin) == _statuses(by_index) == expected
    for report in (by_plugin, by_index):
        http = next(p for p in report.packages if p.name == "acme-http")
        assert "already published with different content: bump the version" in http.detail
        app = next(p for p in report.packages if p.name == "acme-app")
        assert app.detail == "not uploaded: its dependency acme-http did not publish"
    handed = {entry[1] for entry in _log(tmp_path / "store.log") if entry[0] == "publish"}
    assert handed == {"acme-core", "acme-storage"}


def test_dependents_of_a_failed_upload_are_blocked_and_never_handed_over(
    store_plugin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORE_FAIL", "acme-core")
    report = _publish(_mono(tmp_path / "mono", store_plugin))
    assert not report.ok
    core, *rest = report.packages
    assert core.status == "failed"
    assert "publisher 'store' failed: ConnectionError: the store is down" in core.detail
    assert {p.name: p.status for p in rest} == dict.fromkeys(
        ["acme-http", "acme-storage", "acme-app"], "blocked"
    )
    handed = [entry[1] for entry in _log(tmp_path / "store.log") if entry[0] == "publish"]
    assert handed == ["acme-core"]


def test_a_lost_answer_is_looked_up_again(
    store_plugin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STORE_LOSE_ANSWER", "acme-core")
    report = _publish(_mono(tmp_path / "mono", store_plugin))
    assert report.ok
    core = report.packages[0]
    assert core.status == "published"
    assert {f.detail for f in core.files} == {"landed despite a lost answer"}


def test_publish_hooks_and_reporters_run_around_each_plugin_upload(
    store_plugin: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events = tmp_path / "hooks.log"
    hooks = (
        "\n[tool.poetflow.hooks]\n"
        f'pre-publish = ["echo pre $POETFLOW_PACKAGE >> {events}"]\n'
        f'post-publish = ["echo post $POETFLOW_PACKAGE $POETFLOW_ARTIFACTS >> {events}"]\n'
    )
    monkeypatch.setenv("STORE_FAIL", "acme-storage")
    report = _publish(_mono(tmp_path / "mono", store_plugin, hooks))
    assert [p.status for p in report.packages] == ["published", "published", "failed", "blocked"]
    lines = events.read_text().splitlines()
    assert "pre acme-core" in lines
    assert "pre acme-storage" in lines  # it ran, and failed: no post-publish for it
    assert not any(line.startswith(("post acme-storage", "pre acme-app")) for line in lines)
    post_http = next(line for line in lines if line.startswith("post acme-http"))
    assert "acme_http-0.1.0-py3-none-any.whl" in post_http
    reported = _log(tmp_path / "reports.log")
    assert ["package-finished", "publish", "acme-core", True] in reported
    assert ["package-finished", "publish", "acme-storage", False] in reported
    assert reported[-1] == ["stage-finished", "publish", None, False]
