"""Credentials where Poetry users keep them: ``auth.toml`` and the system keyring.

The keyring tests run PoetFlow in a subprocess with a real keyring backend of their own
(a module on disk, selected with PYTHON_KEYRING_BACKEND): the keyring library loads it
exactly as it loads the desktop ones.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from publish_fixtures import write_workspace
from tests.conftest import CliResult, init_repo

from index_server import IndexServer

RunCli = Callable[..., CliResult]

_BACKEND = '''
"""A keyring backend reading a JSON file: {"service|username": "secret"}."""
import json
import os

from keyring.backend import KeyringBackend


class FileKeyring(KeyringBackend):
    priority = 1

    def get_password(self, service, username):
        with open(os.environ["TEST_KEYRING_FILE"], encoding="utf-8") as handle:
            return json.load(handle).get(f"{service}|{username}")

    def set_password(self, service, username, password):
        raise NotImplementedError

    def delete_password(self, service, username):
        raise NotImplementedError
'''


@pytest.fixture
def mono(tmp_path: Path, index_server: IndexServer) -> Path:
    root = write_workspace(tmp_path / "mono", {"acme-core": []})
    with (root / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write(f'\n[tool.poetflow.repositories.internal]\nurl = "{index_server.url}"\n')
    (root / ".gitignore").write_text("dist/\n", encoding="utf-8")
    return init_repo(root)


def _auth_toml(text: str) -> Path:
    folder = Path(os.environ["HOME"]) / ".config" / "pypoetry"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "auth.toml").write_text(text, encoding="utf-8")
    return folder / "auth.toml"


def _poetflow(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "poetflow", *args],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _keyring(tmp_path: Path, secrets: dict[str, str]) -> dict[str, str]:
    """The environment that selects the file keyring holding ``secrets``."""
    folder = tmp_path / "backend"
    folder.mkdir()
    (folder / "filekeyring.py").write_text(_BACKEND, encoding="utf-8")
    store = tmp_path / "keyring.json"
    store.write_text(json.dumps(secrets), encoding="utf-8")
    return {
        "PYTHON_KEYRING_BACKEND": "filekeyring.FileKeyring",
        "PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]),
        "TEST_KEYRING_FILE": str(store),
    }


def test_auth_toml_http_basic_publishes_and_doctor_names_its_source(
    mono: Path, index_server: IndexServer, run_cli: RunCli
) -> None:
    path = _auth_toml(
        f'[http-basic.internal]\nusername = "{index_server.username}"\n'
        f'password = "{index_server.password}"\n'
    )
    result = run_cli("publish", "-r", "internal", "--no-build", cwd=mono)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert len(index_server.files()) == 2
    assert index_server.password not in result.stdout + result.stderr

    with (mono / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[tool.poetflow.publish]\nrepositories = ["internal"]\n')
    doctor = run_cli("doctor", "--json", cwd=mono)
    [entry] = json.loads(doctor.stdout)["credentials"]
    assert entry == {
        "repository": "internal",
        "url": index_server.url,
        "source": f"{path}: http-basic.internal",
    }
    assert index_server.password not in doctor.stdout + doctor.stderr


def test_a_wrong_auth_toml_password_is_masked_in_the_failure(
    mono: Path, index_server: IndexServer, run_cli: RunCli
) -> None:
    wrong = "Wrong-auth-toml-Secret-42"
    _auth_toml(
        f'[http-basic.internal]\nusername = "{index_server.username}"\npassword = "{wrong}"\n'
    )
    result = run_cli("publish", "-r", "internal", "--no-build", "--log-level", "debug", cwd=mono)
    assert result.exit_code == 1
    assert "auth.toml: http-basic.internal" in result.stderr
    assert "HTTP 401" in result.stderr or "HTTP 403" in result.stderr
    assert wrong not in result.stdout + result.stderr
    assert index_server.files() == []


def test_keyring_password_for_poetry_http_basic_publishes(
    mono: Path, index_server: IndexServer, tmp_path: Path
) -> None:
    # `poetry config http-basic.internal USER PASS` with a keyring: the user in auth.toml,
    # the password in the keyring under Poetry's service name.
    path = _auth_toml(f'[http-basic.internal]\nusername = "{index_server.username}"\n')
    env = _keyring(
        tmp_path,
        {f"poetry-repository-internal|{index_server.username}": index_server.password},
    )
    result = _poetflow(mono, "publish", "-r", "internal", "--no-build", **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(index_server.files()) == 2
    assert index_server.password not in result.stdout + result.stderr
    with (mono / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[tool.poetflow.publish]\nrepository = "internal"\n')
    doctor = _poetflow(mono, "doctor", "--json", **env)
    [entry] = json.loads(doctor.stdout)["credentials"]
    assert entry["source"] == (
        f"the keyring: poetry-repository-internal (http-basic, user from {path})"
    )


def test_keyring_pypi_token_is_found_for_each_repository_name(mono: Path, tmp_path: Path) -> None:
    with (mono / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[tool.poetflow.publish]\nrepositories = ["internal", "pypi"]\n')
    token = "pypi-AgEIcHlwaS5vcmcCJGtleXJpbmctdGVzdA"
    env = _keyring(tmp_path, {"poetry-repository-pypi|__token__": token})
    env["POETFLOW_REPOSITORY_INTERNAL_TOKEN"] = "internal-env-token-123456"
    doctor = _poetflow(mono, "doctor", "--json", **env)
    data = json.loads(doctor.stdout)
    sources = {item["repository"]: item["source"] for item in data["credentials"]}
    assert sources == {
        "internal": "POETFLOW_REPOSITORY_INTERNAL_TOKEN",
        "pypi": "the keyring: poetry-repository-pypi (pypi-token)",
    }
    assert token not in doctor.stdout + doctor.stderr
    assert "internal-env-token-123456" not in doctor.stdout + doctor.stderr
    text = _poetflow(mono, "doctor", **env)
    assert "credentials for pypi (https://upload.pypi.org/legacy/): the keyring" in text.stdout


def test_a_broken_keyring_backend_costs_nothing(mono: Path, tmp_path: Path) -> None:
    env = {"PYTHON_KEYRING_BACKEND": "no_such_module.Keyring"}
    doctor = _poetflow(mono, "doctor", "--json", **env)
    assert doctor.returncode == 1
    [finding] = [f for f in json.loads(doctor.stdout)["findings"] if f["check"] == "credentials"]
    assert "poetry config pypi-token.pypi" in finding["message"]
    assert "Traceback" not in doctor.stderr
    # auth.toml still works next to the broken keyring.
    _auth_toml('[pypi-token]\npypi = "pypi-from-auth-toml-token-1234"\n')
    again = _poetflow(mono, "doctor", "--json", **env)
    assert again.returncode == 0, again.stdout + again.stderr
    [entry] = json.loads(again.stdout)["credentials"]
    assert entry["source"].endswith("auth.toml: pypi-token.pypi")
    assert "pypi-from-auth-toml-token-1234" not in again.stdout + again.stderr


def test_the_environment_wins_over_poetry_and_poetry_over_the_catch_all_token(
    mono: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _auth_toml('[pypi-token]\npypi = "pypi-from-auth-toml-token-1234"\n')
    monkeypatch.setenv("POETFLOW_TOKEN", "catch-all-token-for-every-index")
    data = json.loads(run_cli("doctor", "--json", cwd=mono).stdout)
    assert data["credentials"][0]["source"].endswith("auth.toml: pypi-token.pypi")
    monkeypatch.setenv("POETRY_PYPI_TOKEN_PYPI", "pypi-from-the-environment-123")
    data = json.loads(run_cli("doctor", "--json", cwd=mono).stdout)
    assert data["credentials"][0]["source"] == "POETRY_PYPI_TOKEN_PYPI"


def test_no_keyring_is_loaded_where_none_can_exist(tmp_path: Path) -> None:
    """A CI job (Linux, no D-Bus session, no backend chosen) pays nothing for the keyring."""
    script = (
        "import sys\n"
        "from poetflow.publish.credentials import resolve_credentials\n"
        "from poetflow.publish.repositories import BUILTIN_REPOSITORIES\n"
        "found = resolve_credentials(BUILTIN_REPOSITORIES['pypi'])\n"
        "print(found.source, 'keyring' in sys.modules)\n"
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS")
    }
    env["POETFLOW_TOKEN"] = "catch-all-token-for-every-index"
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["POETFLOW_TOKEN", "False"]
