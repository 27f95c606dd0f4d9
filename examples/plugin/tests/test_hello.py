"""The plugin's own tests: run with PoetFlow and poetflow-hello installed."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from poetflow.plugins import ReportEvent
from poetflow_hello.reporter import ReleaseAnnouncer

PUBLISHED = {
    "packages": [
        {
            "name": "acme-core",
            "version": "1.2.0",
            "status": "published",
            "files": [{"file": "acme_core-1.2.0-py3-none-any.whl"}],
        },
        {"name": "acme-app", "version": "0.3.0", "status": "skipped", "files": []},
    ]
}


def _monorepo(root: Path) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.poetflow]\npackages = ["packages/*"]\n')
    for name, deps in (("core", ""), ("app", 'core = {path = "../core"}\n')):
        package = root / "packages" / name
        (package / "src" / name).mkdir(parents=True)
        (package / "src" / name / "__init__.py").write_text("")
        (package / "pyproject.toml").write_text(
            f'[tool.poetry]\nname = "{name}"\nversion = "1.0.0"\ndescription = ""\n'
            f'authors = []\n\n[tool.poetry.dependencies]\npython = ">=3.10"\n{deps}'
        )
    return root


def test_hello_command_greets_packages_dependencies_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from poetflow.cli.app import main

    root = _monorepo(tmp_path / "repo")
    with pytest.raises(SystemExit) as exit_info:
        main(["hello", "--root", str(root), "--shout"])
    assert exit_info.value.code in (0, None)
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["HELLO, CORE 1.0.0!", "HELLO, APP 1.0.0!", "2 packages greeted."]


def test_announcer_writes_released_packages_to_the_outbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outbox = tmp_path / "releases.txt"
    monkeypatch.setenv("HELLO_OUTBOX", str(outbox))
    monkeypatch.delenv("HELLO_WEBHOOK_URL", raising=False)
    announcer = ReleaseAnnouncer()
    announcer.report(ReportEvent("stage-finished", "publish", True, data=PUBLISHED))
    announcer.report(ReportEvent("stage-finished", "build", True, data=PUBLISHED))
    announcer.report(ReportEvent("stage-finished", "publish", True, dry_run=True, data=PUBLISHED))
    assert outbox.read_text().splitlines() == [
        "released acme-core 1.2.0: acme_core-1.2.0-py3-none-any.whl"
    ]


def test_announcer_posts_to_a_chat_webhook(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[dict[str, str]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("HELLO_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/hook")
        monkeypatch.delenv("HELLO_OUTBOX", raising=False)
        ReleaseAnnouncer().report(ReportEvent("stage-finished", "publish", True, data=PUBLISHED))
    finally:
        server.shutdown()
        server.server_close()
    assert received == [{"text": "released acme-core 1.2.0: acme_core-1.2.0-py3-none-any.whl"}]


def test_emoji_parser_maps_codes_to_bumps_and_sections() -> None:
    from poetflow_hello.parser import EmojiCommits

    parser = EmojiCommits()
    boom = parser.parse(":boom: drop Python 3.9\n\nThe body.")
    assert boom is not None
    assert (boom.bump, boom.section, boom.breaking) == ("major", "feat", True)
    sparkles = parser.parse(":sparkles: add search")
    assert sparkles is not None
    assert (sparkles.bump, sparkles.subject) == ("minor", "add search")
    bug = parser.parse(":bug: fix crash")
    assert bug is not None
    assert (bug.bump, bug.section) == ("patch", "fix")
    assert parser.parse("feat: a conventional commit") is None
    assert parser.parse(":unknown: something") is None


def test_folder_store_copies_skips_and_refuses_other_content(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from poetflow.plugins import PublishRequest
    from poetflow_hello.publisher import FolderStore

    wheel = tmp_path / "demo-1.0.0-py3-none-any.whl"
    wheel.write_bytes(b"wheel bytes")
    store = tmp_path / "store"
    monkeypatch.setenv("POETFLOW_HELLO_STORE", str(store))
    request = PublishRequest("demo", "1.0.0", (wheel,))
    first = FolderStore().publish(request)
    assert [item.status for item in first] == ["uploaded"]
    assert (store / "demo" / wheel.name).read_bytes() == b"wheel bytes"
    assert first[0].url == (store / "demo" / wheel.name).as_uri()
    assert [item.status for item in FolderStore().publish(request)] == ["skipped"]
    wheel.write_bytes(b"rebuilt with other content")
    assert [item.status for item in FolderStore().publish(request)] == ["failed"]
