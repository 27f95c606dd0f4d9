"""The remote task cache against a real nginx (WebDAV PUT): shared results, read-only jobs,
credentials that never show, and caches that are dead or slow costing seconds, not jobs."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.cache_server import CacheServer, start_cache_server
from tests.conftest import CliResult

Run = Callable[..., CliResult]

PASSING = """
def test_one():
    assert True
"""

TOKEN = "pf-cache-token-3b9e1f0c"
PASSWORD = "pf-cache-password-77d2a"


@pytest.fixture
def cache_server(tmp_path: Path) -> Iterator[CacheServer]:
    with start_cache_server(tmp_path / "nginx", token=TOKEN) as server:
        yield server


def _statuses(result: CliResult) -> dict[str, str]:
    return {p["name"]: p["status"] for p in json.loads(result.stdout)["packages"]}


def _everything_written(root: Path, *results: CliResult) -> str:
    texts = [r.stdout + r.stderr for r in results]
    for path in (root / ".poetflow").rglob("*"):
        if path.is_file() and path.suffix in (".json", ".md", ".xml"):
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts)


@pytest.mark.slow
@pytest.mark.usefixtures("poetry_settings")
def test_a_fresh_clone_takes_every_result_from_the_remote_and_creates_no_environment(
    locked_monorepo: Path,
    clone: Callable[[Path, str], Path],
    run_cli: Run,
    cache_server: CacheServer,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("POETFLOW_CACHE_TOKEN", TOKEN)
    monkeypatch.setenv("POETFLOW_CACHE_URL", cache_server.url)
    first = clone(locked_monorepo, "job-1")
    filled = run_cli("test", "--json", cwd=first)
    assert filled.exit_code == 0, filled.stdout + filled.stderr
    assert set(_statuses(filled).values()) == {"passed"}
    assert len(cache_server.entries("ac")) > 0

    second = clone(locked_monorepo, "job-2")
    junit = tmp_path / "junit.xml"
    result = run_cli("test", "--json", "--junit-xml", junit, cwd=second)
    assert result.exit_code == 0, result.stdout + result.stderr
    packages = json.loads(result.stdout)["packages"]
    assert {p["status"] for p in packages} == {"cached"}
    assert {p["cache"]["origin"] for p in packages} == {"remote"}
    assert not (second / ".poetflow" / "venvs").exists()  # no environment was made
    assert 'tests="3"' in junit.read_text(encoding="utf-8")
    assert TOKEN not in _everything_written(second, filled, result)
    # The hit is now local too: a third run needs no server at all.
    cache_server.stop()
    offline = run_cli("test", "--json", cwd=second)
    assert {p["cache"]["origin"] for p in json.loads(offline.stdout)["packages"]} == {"local"}


def test_read_only_jobs_use_results_but_upload_nothing(
    make_workspace: Callable[..., Path],
    run_cli: Run,
    cache_server: CacheServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POETFLOW_CACHE_TOKEN", TOKEN)
    packages = {"kept": ([], PASSING, None), "changed": ([], PASSING, None)}
    trusted = make_workspace(packages, name="trusted")
    fork = make_workspace(packages, name="fork")
    assert run_cli("test", "--cache-url", cache_server.url, cwd=trusted).exit_code == 0
    uploads = len(cache_server.requests("PUT"))
    assert uploads > 0

    test_file = fork / "packages" / "changed" / "tests" / "test_changed.py"
    test_file.write_text(test_file.read_text() + "\n# a change from a fork\n")
    result = run_cli(
        "test", "--cache-url", cache_server.url, "--cache-read-only", "--json", cwd=fork
    )
    assert result.exit_code == 0, result.stderr
    assert _statuses(result) == {"kept": "cached", "changed": "passed"}
    assert len(cache_server.requests("PUT")) == uploads  # nothing written by the fork


def test_userinfo_credentials_work_and_never_show(
    make_workspace: Callable[..., Path], run_cli: Run, tmp_path: Path
) -> None:
    with start_cache_server(tmp_path / "basic", basic=("ci-bot", PASSWORD)) as server:
        url = server.url.replace("http://", f"http://ci-bot:{PASSWORD}@")
        one = make_workspace({"pkg": ([], PASSING, None)}, name="one")
        two = make_workspace({"pkg": ([], PASSING, None)}, name="two")
        first = run_cli("test", "--cache-url", url, cwd=one)
        second = run_cli("test", "--cache-url", url, "--json", "--log-level", "debug", cwd=two)
    assert first.exit_code == second.exit_code == 0
    assert _statuses(second) == {"pkg": "cached"}
    assert PASSWORD not in _everything_written(two, first, second)


def test_a_cache_refusing_the_token_is_one_warning_and_the_tests_run(
    make_workspace: Callable[..., Path],
    run_cli: Run,
    cache_server: CacheServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POETFLOW_CACHE_TOKEN", "pf-wrong-token-000")
    root = make_workspace({"a": ([], PASSING, None), "b": ([], PASSING, None)})
    result = run_cli("test", "--cache-url", cache_server.url, "--json", cwd=root)
    assert result.exit_code == 0, result.stderr
    assert _statuses(result) == {"a": "passed", "b": "passed"}
    warnings = [line for line in result.stderr.splitlines() if "remote cache" in line]
    assert len(warnings) == 1
    assert "refused the credentials (HTTP 401)" in warnings[0]
    assert "pf-wrong-token-000" not in result.stdout + result.stderr


def test_a_dead_cache_costs_one_warning_and_no_time(
    make_workspace: Callable[..., Path], run_cli: Run
) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/cache"
    root = make_workspace({f"p{i}": ([], PASSING, None) for i in range(3)})
    started = time.monotonic()
    result = run_cli("test", "--cache-url", dead, "--json", cwd=root)
    elapsed = time.monotonic() - started
    assert result.exit_code == 0, result.stderr
    assert set(_statuses(result).values()) == {"passed"}
    warnings = [line for line in result.stderr.splitlines() if "remote cache" in line]
    assert len(warnings) == 1, result.stderr
    assert "cannot be reached" in warnings[0]
    # The local store still works without the remote.
    again = run_cli("test", "--cache-url", dead, "--json", cwd=root)
    assert set(_statuses(again).values()) == {"cached"}
    assert elapsed < 120  # three tiny packages; the point is: no retries, no hang


class _SilentServer:
    """Accepts connections and never answers: a cache that hangs."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self.held: list[socket.socket] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        deadline = time.monotonic() + 300  # never outlives a test run
        while not self.stopped.is_set() and time.monotonic() < deadline:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            self.held.append(connection)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        for connection in self.held:
            connection.close()
        self.socket.close()


def test_a_slow_cache_is_given_up_after_one_timeout(
    make_workspace: Callable[..., Path], run_cli: Run, tmp_path: Path
) -> None:
    from poetflow.cache.remote import RemoteCache
    from poetflow.cache.store import LocalStore
    from poetflow.cache.task import TaskCache

    silent = _SilentServer()
    url = f"http://127.0.0.1:{silent.port}"
    try:
        # What a run does, package after package: look up, miss, store.
        cache = TaskCache(
            LocalStore(tmp_path / "store", 1 << 20), RemoteCache(url, token=None, timeout=1)
        )
        started = time.monotonic()
        for n in range(10):
            assert cache.lookup(f"{n:064x}") is None
            cache.store(f"{n:064x}", {"result.json": b"{}"})
        elapsed = time.monotonic() - started
        # The CLI: the tests pass, and one warning says why the remote was left alone.
        root = make_workspace({f"p{i}": ([], PASSING, None) for i in range(3)})
        pyproject = root / "pyproject.toml"
        pyproject.write_text(pyproject.read_text() + "\n[tool.poetflow.cache]\ntimeout = 1\n")
        result = run_cli("test", "--cache-url", url, "--json", cwd=root)
    finally:
        silent.stop()
    assert elapsed < 3, elapsed  # one timeout for the run, not one per request (20 s)
    assert cache.local.get_action(f"{9:064x}") is not None  # the local store still works
    assert result.exit_code == 0, result.stderr
    assert set(_statuses(result).values()) == {"passed"}
    warnings = [line for line in result.stderr.splitlines() if "remote cache" in line]
    assert len(warnings) == 1
    assert "did not answer within 1 s" in warnings[0]
