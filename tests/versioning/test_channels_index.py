"""Channel pre-releases built with Poetry, published to a real pypiserver, picked by pip."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from channel_repo import build_channel_repo, commit_change, release
from version_history import git

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from index_server import IndexServer, start_index_server

pytestmark = pytest.mark.slow


@pytest.fixture
def index_server(tmp_path: Path) -> Iterator[IndexServer]:
    server = start_index_server(tmp_path / "index")
    yield server
    server.stop()


def _ship(run_cli: Callable[..., Any], root: Path, *packages: str) -> None:
    selection = [arg for name in packages for arg in ("-p", name)]
    built = run_cli("build", *selection, cwd=root)
    assert built.exit_code == 0, built.stderr
    published = run_cli("publish", "--repository", "local", *selection, cwd=root)
    assert published.exit_code == 0, published.stderr


def _pip_download(index: IndexServer, target: Path, *args: str) -> list[str]:
    """What pip picks from the index (with dependencies), as file names."""
    target.mkdir()
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--only-binary", ":all:",
         "--index-url", index.simple_url, "-d", str(target), *args],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return sorted(path.name for path in target.iterdir())


def test_channel_prereleases_upload_and_pip_takes_them_only_with_pre(
    tmp_path: Path,
    run_cli: Callable[..., Any],
    index_server: IndexServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_USERNAME", index_server.username)
    monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_PASSWORD", index_server.password)
    repository = f'\n[tool.poetflow.repositories.local]\nurl = "{index_server.url}"\n'
    root = build_channel_repo(tmp_path / "work", extra_config=repository)
    _ship(run_cli, root, "core", "app")  # the final releases 1.4.0 and 0.5.0

    git(root, "checkout", "-q", "-b", "next")
    commit_change(root, "core", "feat(core): batch API")
    plan = release(run_cli, root)["by_name"]
    assert (plan["core"]["next"], plan["app"]["next"]) == ("1.5.0rc1", "0.5.1rc1")
    _ship(run_cli, root, "core", "app")
    # pypiserver accepted the PEP 440 pre-releases.
    assert {"core-1.5.0rc1-py3-none-any.whl", "app-0.5.1rc1-py3-none-any.whl"} <= set(
        index_server.files()
    )

    assert _pip_download(index_server, tmp_path / "plain", "core") == [
        "core-1.4.0-py3-none-any.whl"
    ]
    assert _pip_download(index_server, tmp_path / "pre", "--pre", "core") == [
        "core-1.5.0rc1-py3-none-any.whl"
    ]
    assert _pip_download(index_server, tmp_path / "app", "app") == [
        "app-0.5.0-py3-none-any.whl",
        "core-1.4.0-py3-none-any.whl",
    ]
    # The dependent's pre-release pins a range naming core's pre-release, so asking for
    # it by version brings core 1.5.0rc1 along without --pre.
    assert _pip_download(index_server, tmp_path / "apprc", "app==0.5.1rc1") == [
        "app-0.5.1rc1-py3-none-any.whl",
        "core-1.5.0rc1-py3-none-any.whl",
    ]

    # Merged to main, the pipeline graduates them: versions, tags, builds and uploads.
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-ff", "next", "-m", "Merge branch 'next'")
    ran = run_cli("run", "--skip", "test", "--repository", "local", cwd=root)
    assert ran.exit_code == 0, ran.stderr
    assert {"core-1.5.0-py3-none-any.whl", "app-0.5.1-py3-none-any.whl"} <= set(
        index_server.files()
    )
    assert {"core-v1.5.0", "app-v0.5.1"} <= set(git(root, "tag", "--list").split())
    assert _pip_download(index_server, tmp_path / "final", "app") == [
        "app-0.5.1-py3-none-any.whl",
        "core-1.5.0-py3-none-any.whl",
    ]
