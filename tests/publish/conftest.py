"""Fixtures for publish tests: a real pypiserver per test and small built monorepos."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from publish_fixtures import DIAMOND, write_workspace

from index_server import IndexServer, start_index_server


@pytest.fixture(scope="session")
def index_server_factory(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[], IndexServer]]:
    """Start as many fresh pypiservers as a test needs; all stop at the end of the session."""
    servers: list[IndexServer] = []

    def start() -> IndexServer:
        server = start_index_server(tmp_path_factory.mktemp("index"))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def index_server(index_server_factory: Callable[[], IndexServer]) -> Iterator[IndexServer]:
    server = index_server_factory()
    yield server
    server.stop()


@pytest.fixture
def diamond(tmp_path: Path, index_server: IndexServer) -> Path:
    """The built diamond monorepo with repository ``local`` pointing at the test index."""
    return write_workspace(tmp_path / "mono", DIAMOND, index_server.url)


@pytest.fixture
def local_credentials(monkeypatch: pytest.MonkeyPatch, index_server: IndexServer) -> None:
    monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_USERNAME", index_server.username)
    monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_PASSWORD", index_server.password)
