"""Hooks attached to the real stages, run through the CLI on small monorepos."""

from __future__ import annotations

import json
import os
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

RECORD = 'echo "$POETFLOW_HOOK $POETFLOW_PACKAGE $POETFLOW_VERSION" >> "$POETFLOW_ROOT/order.log"'
GENERATE = 'echo "generated for $POETFLOW_PACKAGE" > "src/$(echo $POETFLOW_PACKAGE)/GENERATED.txt"'
TWINE = "IFS=:; twine check $POETFLOW_ARTIFACTS >> $POETFLOW_ROOT/twine.log"


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_build_runs_pre_and_post_hooks_per_package_in_dependency_order(
    hooked_repo: Callable[..., Path], run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # twine is installed next to the interpreter running the tests (the dev group).
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    root = hooked_repo(
        f"pre-build = [{json.dumps(RECORD)}, {json.dumps(GENERATE)}]\n"
        f"post-build = [{json.dumps(RECORD)}, {json.dumps(TWINE)}]\n"
    )
    result = run_cli("build", "--jobs", "1", cwd=root)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert _lines(root / "order.log") == [
        "pre-build core 1.0.0",
        "post-build core 1.0.0",
        "pre-build app 2.0.0",
        "post-build app 2.0.0",
    ]
    # The file the pre-build hook generated ships in the wheel.
    wheel = next((root / "packages" / "core" / "dist").glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("core/GENERATED.txt").decode() == "generated for core\n"
    # post-build saw both artifacts and twine checked them.
    assert (root / "twine.log").read_text().count("PASSED") == 4


def test_a_failing_pre_build_hook_fails_the_package_and_blocks_its_dependents(
    hooked_repo: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    root = hooked_repo(
        f"post-build = [{json.dumps(RECORD)}]\n",
        {"core": '\n[tool.poetflow.hooks]\npre-build = ["echo schema missing >&2; exit 5"]\n'},
    )
    result = run_cli("build", "--json", cwd=root)
    assert result.exit_code == 1
    packages = {item["name"]: item for item in json.loads(result.stdout)["packages"]}
    assert packages["core"]["status"] == "failed"
    assert (
        "pre-build hook 'echo schema missing >&2; exit 5' of package 'core'"
        in (packages["core"]["error"])
    )
    assert "schema missing" in packages["core"]["error"]
    assert packages["app"]["status"] == "blocked"
    assert not (root / "packages" / "core" / "dist").exists()
    assert _lines(root / "order.log") == []


def test_a_failing_post_build_hook_fails_the_package(
    hooked_repo: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    root = hooked_repo('post-build = ["test $POETFLOW_PACKAGE != app"]\n')
    result = run_cli("build", "--json", cwd=root)
    assert result.exit_code == 1
    packages = {item["name"]: item for item in json.loads(result.stdout)["packages"]}
    assert packages["core"]["status"] == "built"
    assert packages["app"]["status"] == "failed"
    assert "post-build hook" in packages["app"]["error"]


def test_a_missing_hook_program_is_exit_2_before_anything_is_built(
    hooked_repo: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    root = hooked_repo('post-build = ["sphinx-build-not-installed docs out"]\n')
    result = run_cli("build", cwd=root)
    assert result.exit_code == 2
    assert "post-build hook of package 'app'" in result.stderr or (
        "post-build hook of package 'core'" in result.stderr
    )
    assert "'sphinx-build-not-installed', which is not on PATH" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (root / "packages" / "core" / "dist").exists()


def test_build_dry_run_lists_hooks_and_runs_none(
    hooked_repo: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    root = hooked_repo(f"pre-build = [{json.dumps(RECORD)}]\n")
    result = run_cli("build", "--dry-run", cwd=root)
    assert result.exit_code == 0, result.stderr
    assert "would run pre-build hook of core" in result.stderr
    assert _lines(root / "order.log") == []


def _docs_example(title: str) -> str:
    """The TOML block under ``title`` in docs/hooks.md: the documented example, verbatim."""
    text = (Path(__file__).resolve().parents[2] / "docs" / "hooks.md").read_text()
    section = text.split(f"### {title}", 1)[1]
    return section.split("```toml\n", 1)[1].split("```", 1)[0]


@pytest.mark.slow
def test_publish_hooks_wrap_each_upload_and_the_documented_webhook_example_works(
    tmp_path: Path, run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "publish"))
    from publish_fixtures import write_workspace

    from index_server import start_index_server

    received: list[dict[str, str]] = []

    class Chat(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    chat = HTTPServer(("127.0.0.1", 0), Chat)
    threading.Thread(target=chat.serve_forever, daemon=True).start()
    server = start_index_server(tmp_path / "index")
    try:
        root = write_workspace(
            tmp_path / "mono", {"hook-core": [], "hook-app": ["hook-core"]}, server.url
        )
        with (root / "pyproject.toml").open("a") as pyproject:
            pyproject.write(_docs_example("Notify a chat webhook after the upload"))
            pyproject.write(f'pre-publish = [{json.dumps(RECORD)}, "env > pre-publish.env"]\n')
        monkeypatch.setenv("CHAT_WEBHOOK_URL", f"http://127.0.0.1:{chat.server_port}/hook")
        monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_USERNAME", server.username)
        monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_PASSWORD", server.password)

        dry = run_cli("publish", "--repository", "local", "--dry-run", cwd=root)
        assert dry.exit_code == 0, dry.stderr
        assert received == []
        assert not (root / "order.log").exists()

        result = run_cli("publish", "--repository", "local", "--jobs", "1", cwd=root)
        assert result.exit_code == 0, result.stdout + result.stderr
    finally:
        server.stop()
        chat.shutdown()
        chat.server_close()
    assert _lines(root / "order.log") == [
        "pre-publish hook-core 0.1.0",
        "pre-publish hook-app 0.1.0",
    ]
    assert received == [
        {"text": "released hook-core 0.1.0"},
        {"text": "released hook-app 0.1.0"},
    ]
    env = (root / "packages" / "hook-core" / "pre-publish.env").read_text()
    assert server.password not in env
    artifacts = next(line for line in env.splitlines() if line.startswith("POETFLOW_ARTIFACTS="))
    assert sorted(Path(p).name for p in artifacts.split("=", 1)[1].split(os.pathsep)) == [
        "hook_core-0.1.0-py3-none-any.whl",
        "hook_core-0.1.0.tar.gz",
    ]


def test_test_stage_runs_hooks_around_each_package_and_a_failing_pre_test_fails_it(
    hooked_repo: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    root = hooked_repo(
        f"pre-test = [{json.dumps(RECORD)}]\npost-test = [{json.dumps(RECORD)}]\n\n"
        '[tool.poetflow.test]\nenv = "current"\ncommands = ["true"]\n',
        {"app": '\n[tool.poetflow.hooks]\npre-test = ["echo no fixtures; exit 7"]\n'},
    )
    result = run_cli("test", "--json", "--jobs", "1", cwd=root)
    assert result.exit_code == 1, result.stderr
    packages = {item["name"]: item for item in json.loads(result.stdout)["packages"]}
    assert packages["core"]["status"] == "passed"
    assert packages["app"]["status"] == "failed"
    assert "pre-test hook 'echo no fixtures; exit 7' of package 'app'" in packages["app"]["error"]
    assert _lines(root / "order.log") == ["pre-test core 1.0.0", "post-test core 1.0.0"]


VERSION_RECORD = (
    'echo "$POETFLOW_HOOK $POETFLOW_PACKAGE $POETFLOW_VERSION->$POETFLOW_NEXT_VERSION '
    '$(grep ^version pyproject.toml)" >> "$POETFLOW_ROOT/order.log"'
)


def test_version_and_changelog_hooks_wrap_the_one_write(
    hooked_repo: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    root = hooked_repo(
        f"pre-version = [{json.dumps(VERSION_RECORD)}]\n"
        f"post-version = [{json.dumps(VERSION_RECORD)}]\n"
        f"pre-changelog = [{json.dumps(RECORD)}]\n"
        f"post-changelog = ['test -f CHANGELOG.md && {RECORD}']\n"
    )
    result = run_cli("version", "bump", "minor", "-p", "core", "--changelog", cwd=root)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert _lines(root / "order.log") == [
        'pre-version core 1.0.0->1.1.0 version = "1.0.0"',
        'pre-version app 2.0.0->2.0.1 version = "2.0.0"',
        "pre-changelog core 1.0.0",
        "pre-changelog app 2.0.0",
        "post-changelog core 1.0.0",
        "post-changelog app 2.0.0",
        'post-version core 1.0.0->1.1.0 version = "1.1.0"',
        'post-version app 2.0.0->2.0.1 version = "2.0.1"',
    ]


def test_a_failing_pre_version_hook_changes_nothing(
    hooked_repo: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    root = hooked_repo('pre-version = ["test $POETFLOW_PACKAGE != app"]\n')
    before = (root / "packages" / "core" / "pyproject.toml").read_text()
    result = run_cli("version", "bump", "minor", "-p", "core", cwd=root)
    assert result.exit_code == 1
    assert "pre-version hook 'test $POETFLOW_PACKAGE != app' of package 'app'" in result.stderr
    assert (root / "packages" / "core" / "pyproject.toml").read_text() == before
