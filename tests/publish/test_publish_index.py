"""poetflow publish against a real pypiserver: upload, rerun, bad credentials, clash, pip."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from publish_fixtures import DIAMOND, build_package, write_package, write_workspace

from index_server import IndexServer, start_index_server

pytestmark = pytest.mark.slow

POETFLOW = str(Path(sys.executable).with_name("poetflow"))
EXPECTED_FILES = sorted(
    f"{name.replace('-', '_')}-0.1.0{suffix}"
    for name in DIAMOND
    for suffix in (".tar.gz", "-py3-none-any.whl")
)


def _publish_json(run_cli: Callable[..., object], root: Path, *extra: str) -> tuple[int, dict]:
    result = run_cli("publish", "--root", root, "--repository", "local", "--json", *extra)
    payload = json.loads(result.stdout) if result.stdout.strip() else {}  # type: ignore[attr-defined]
    return result.exit_code, payload  # type: ignore[attr-defined]


def _statuses(payload: dict) -> dict[str, str]:
    return {item["file"]: item["status"] for pkg in payload["packages"] for item in pkg["files"]}


@pytest.mark.usefixtures("local_credentials")
def test_publish_uploads_in_dependency_order_and_rerun_skips_everything(
    run_cli: Callable[..., object], diamond: Path, index_server: IndexServer
) -> None:
    code, payload = _publish_json(run_cli, diamond)
    assert code == 0
    order = [package["name"] for package in payload["packages"]]
    assert order.index("acme-core") < order.index("acme-http") < order.index("acme-app")
    assert order.index("acme-storage") < order.index("acme-app")
    assert set(_statuses(payload).values()) == {"uploaded"}
    assert index_server.files() == EXPECTED_FILES
    for package in payload["packages"]:
        for item in package["files"]:  # where each file now lives on the index
            assert item["url"] == f"{index_server.url}packages/{item['file']}"
    wheel = next(f for p in payload["packages"] for f in p["files"] if f["kind"] == "wheel")
    assert len(wheel["sha256"]) == 64
    assert wheel["size"] > 0

    code, payload = _publish_json(run_cli, diamond)
    assert code == 0
    assert set(_statuses(payload).values()) == {"skipped"}
    urls = [f["url"] for p in payload["packages"] for f in p["files"]]
    assert all(url.startswith(index_server.url + "packages/") for url in urls)
    assert index_server.files() == EXPECTED_FILES


@pytest.mark.usefixtures("local_credentials")
def test_dry_run_checks_everything_and_sends_nothing(
    run_cli: Callable[..., object], diamond: Path, index_server: IndexServer
) -> None:
    code, payload = _publish_json(run_cli, diamond, "--dry-run", "--no-build")
    assert code == 0
    assert set(_statuses(payload).values()) == {"would upload"}
    code, payload = _publish_json(run_cli, diamond, "--dry-run")
    assert code == 0
    assert {package["status"] for package in payload["packages"]} == {"would publish"}
    assert index_server.files() == []


def test_wrong_password_fails_blocks_dependents_and_never_shows_the_secret(
    diamond: Path, index_server: IndexServer
) -> None:
    secret = "wr0ng-Secret-Pa55-4cd1"
    env = {
        **os.environ,
        "PIP_CONFIG_FILE": os.devnull,
        "POETFLOW_REPOSITORY_LOCAL_USERNAME": index_server.username,
        "POETFLOW_REPOSITORY_LOCAL_PASSWORD": secret,
    }
    for extra in ([], ["--json"], ["--log-level", "debug"]):
        completed = subprocess.run(
            [POETFLOW, "publish", "--root", str(diamond), "-r", "local", *extra],
            env=env, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert completed.returncode == 1, completed.stderr
        output = completed.stdout + completed.stderr
        assert secret not in output
        assert "refused the credentials" in output or "rejected the credentials" in output
        assert "POETFLOW_REPOSITORY_LOCAL_USERNAME/_PASSWORD" in output
    assert "acme-app: blocked" in completed.stderr
    assert index_server.files() == []


@pytest.mark.usefixtures("local_credentials")
def test_same_version_with_different_content_fails_and_blocks_dependents(
    run_cli: Callable[..., object], diamond: Path, index_server: IndexServer
) -> None:
    code, _ = _publish_json(run_cli, diamond, "--package", "acme-core")
    assert code == 0
    core = write_package(diamond, "acme-core", [], marker="changed")
    for old in (core / "dist").iterdir():
        old.unlink()
    build_package(core)

    result = run_cli("publish", "--root", diamond, "--repository", "local")
    assert result.exit_code == 1  # type: ignore[attr-defined]
    assert "version 0.1.0 already published with different content: bump the version" in (
        result.stderr  # type: ignore[attr-defined]
    )
    assert "acme-http: blocked" in result.stderr  # type: ignore[attr-defined]
    assert index_server.files() == sorted(
        ["acme_core-0.1.0-py3-none-any.whl", "acme_core-0.1.0.tar.gz"]
    )


@pytest.mark.usefixtures("local_credentials")
def test_published_packages_install_with_pip_and_import(
    run_cli: Callable[..., object], diamond: Path, index_server: IndexServer, tmp_path: Path
) -> None:
    code, _ = _publish_json(run_cli, diamond)
    assert code == 0
    target = tmp_path / "site"
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--target", str(target),
         "--index-url", index_server.simple_url, "acme-app==0.1.0"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    imported = subprocess.run(
        [sys.executable, "-c", "import acme_app, acme_core; print(acme_app.NAME, acme_core.NAME)"],
        env={**env, "PYTHONPATH": str(target)}, check=True, capture_output=True, text=True,
    )  # fmt: skip
    assert imported.stdout.split() == ["acme-app", "acme-core"]


def test_missing_credentials_exit_2_naming_the_variables(
    run_cli: Callable[..., object], diamond: Path, index_server: IndexServer
) -> None:
    result = run_cli("publish", "--root", diamond, "--repository", "local")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    for variable in (
        "POETFLOW_REPOSITORY_LOCAL_TOKEN",
        "POETFLOW_REPOSITORY_LOCAL_USERNAME",
        "POETRY_PYPI_TOKEN_LOCAL",
        "POETRY_HTTP_BASIC_LOCAL_USERNAME",
        "POETFLOW_TOKEN",
    ):
        assert variable in result.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in result.stderr  # type: ignore[attr-defined]
    assert index_server.files() == []


def test_missing_artifacts_exit_2_before_any_upload(
    run_cli: Callable[..., object],
    tmp_path: Path,
    index_server: IndexServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = write_workspace(tmp_path / "mono", {"lonely": []}, index_server.url, build=False)
    monkeypatch.setenv("POETFLOW_TOKEN", "some-token-value")
    result = run_cli("publish", "--root", root, "--repository", "local", "--no-build")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "No built sdist or wheel for lonely 0.1.0" in result.stderr  # type: ignore[attr-defined]
    assert index_server.files() == []


@pytest.mark.usefixtures("local_credentials")
def test_publish_builds_what_is_missing_then_reruns_without_rebuilding_differently(
    run_cli: Callable[..., object], tmp_path: Path, index_server: IndexServer
) -> None:
    root = write_workspace(tmp_path / "mono", DIAMOND, index_server.url, build=False)
    code, payload = _publish_json(run_cli, root)
    assert code == 0
    assert set(_statuses(payload).values()) == {"uploaded"}
    assert index_server.files() == EXPECTED_FILES
    code, payload = _publish_json(run_cli, root)
    assert code == 0, payload
    assert set(_statuses(payload).values()) == {"skipped"}


def test_poetry_configured_repository_and_poetry_credentials(
    run_cli: Callable[..., object],
    tmp_path: Path,
    index_server: IndexServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An existing Poetry setup (config.toml repository + POETRY_HTTP_BASIC_*) needs nothing new."""
    root = write_workspace(tmp_path / "mono", {"solo-pkg": []})
    config_dir = tmp_path / "poetry-config"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text(
        f'[repositories.corp-index]\nurl = "{index_server.url}"\n', encoding="utf-8"
    )
    monkeypatch.setenv("POETRY_CONFIG_DIR", str(config_dir))
    monkeypatch.setenv("POETRY_HTTP_BASIC_CORP_INDEX_USERNAME", index_server.username)
    password_file = tmp_path / "password"
    password_file.write_text(index_server.password + "\n", encoding="utf-8")
    monkeypatch.setenv("POETRY_HTTP_BASIC_CORP_INDEX_PASSWORD_FILE", str(password_file))
    result = run_cli("publish", "--root", root, "--repository", "corp-index")
    assert result.exit_code == 0, result.stderr  # type: ignore[attr-defined]
    assert index_server.files() == ["solo_pkg-0.1.0-py3-none-any.whl", "solo_pkg-0.1.0.tar.gz"]


def test_an_index_that_redirects_unknown_projects_elsewhere_is_not_read_as_holding_them(
    run_cli: Callable[..., object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pypiserver's default: a project it does not hold is redirected to PyPI. Here the
    # "PyPI" is a second local index holding another project's file of the same name.
    upstream = start_index_server(tmp_path / "upstream")
    index = start_index_server(tmp_path / "index", fallback_url=upstream.simple_url)
    try:
        (upstream.packages_dir / "acme_core-0.1.0.tar.gz").write_bytes(b"someone else's acme-core")
        root = write_workspace(tmp_path / "mono", DIAMOND, index.url)
        monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_USERNAME", index.username)
        monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_PASSWORD", index.password)
        code, payload = _publish_json(run_cli, root)
        assert code == 0, payload
        assert set(_statuses(payload).values()) == {"uploaded"}
        assert index.files() == EXPECTED_FILES
    finally:
        index.stop()
        upstream.stop()
