"""examples/plugin installed with pip into a fresh venv next to PoetFlow, used for real."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "publish"))

from publish_fixtures import write_workspace

from index_server import IndexServer, start_index_server

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "examples" / "plugin"

pytestmark = pytest.mark.slow

BROKEN_PLUGIN = """\
[project]
name = "poetflow-broken-example"
version = "0.0.1"
description = "A plugin whose module cannot be imported"
requires-python = ">=3.10"

[project.entry-points."poetflow.reporters"]
broken = "poetflow_broken_example:Reporter"

[tool.poetry]
packages = [{ include = "poetflow_broken_example", from = "src" }]

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""


def _clean_env(**extra: str) -> dict[str, str]:
    """The test's environment for the venv's programs, minus the outer venv and pip config."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("VIRTUAL_ENV", "PYTHONPATH", "PIP_CONFIG_FILE")
    }
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def plugin_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with PoetFlow (editable) and examples/plugin installed by pip.

    pip runs with the machine's own configuration (its index and wheel folders): the
    suite-wide PIP_CONFIG_FILE=/dev/null would leave it nowhere to find dependencies.
    """
    target = tmp_path_factory.mktemp("plugin-venv") / "venv"
    venv.EnvBuilder(with_pip=True).create(target)
    pip = [str(target / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    completed = subprocess.run(
        [*pip, "install", "-q", "-e", str(REPO_ROOT), str(EXAMPLE), "pytest"],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return target


def _poetflow(
    venv_dir: Path, *args: str, cwd: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv_dir / "bin" / "poetflow"), *args],
        cwd=cwd,
        env=_clean_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def index_server(tmp_path: Path) -> Iterator[IndexServer]:
    server = start_index_server(tmp_path / "index")
    yield server
    server.stop()


def test_pip_installed_plugin_is_listed_and_its_command_runs(
    plugin_venv: Path, demo_repo: Path
) -> None:
    listed = _poetflow(plugin_venv, "plugins", "--json", cwd=demo_repo)
    assert listed.returncode == 0, listed.stderr
    plugins = {(p["group"], p["name"]): p for p in json.loads(listed.stdout)["plugins"]}
    assert plugins[("poetflow.commands", "hello")]["distribution"] == "poetflow-hello"
    assert plugins[("poetflow.reporters", "hello-announcer")]["status"] == "loaded"

    helped = _poetflow(plugin_venv, "--help", cwd=demo_repo)
    assert "hello" in helped.stdout
    assert "(plugin from poetflow-hello 0.1.0)" in helped.stdout

    greeted = _poetflow(plugin_venv, "hello", cwd=demo_repo)
    assert greeted.returncode == 0, greeted.stderr
    lines = greeted.stdout.splitlines()
    assert lines[0] == "Hello, acme-core 1.2.0!"  # dependencies first
    assert lines[-1] == "4 packages greeted."


def test_the_example_plugins_own_tests_pass(plugin_venv: Path, tmp_path: Path) -> None:
    completed = subprocess.run(
        [str(plugin_venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "--rootdir", str(EXAMPLE), str(EXAMPLE / "tests")],
        cwd=tmp_path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "3 passed" in completed.stdout


def test_the_reporter_announces_a_real_publish(
    plugin_venv: Path, tmp_path: Path, index_server: IndexServer
) -> None:
    root = write_workspace(
        tmp_path / "mono", {"hello-core": [], "hello-app": ["hello-core"]}, index_server.url
    )
    outbox = tmp_path / "releases.txt"
    credentials = {
        "POETFLOW_REPOSITORY_LOCAL_USERNAME": index_server.username,
        "POETFLOW_REPOSITORY_LOCAL_PASSWORD": index_server.password,
    }
    dry = _poetflow(
        plugin_venv, "publish", "--repository", "local", "--dry-run", cwd=root,
        HELLO_OUTBOX=str(outbox), **credentials,
    )  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert not outbox.exists()  # the announcer ignores dry runs

    published = _poetflow(
        plugin_venv, "publish", "--repository", "local", cwd=root,
        HELLO_OUTBOX=str(outbox), **credentials,
    )  # fmt: skip
    assert published.returncode == 0, published.stdout + published.stderr
    assert outbox.read_text().splitlines() == [
        "released hello-core 0.1.0: hello_core-0.1.0.tar.gz, hello_core-0.1.0-py3-none-any.whl",
        "released hello-app 0.1.0: hello_app-0.1.0.tar.gz, hello_app-0.1.0-py3-none-any.whl",
    ]


def test_a_broken_plugin_is_a_warning_not_a_crash(
    plugin_venv: Path, demo_repo: Path, tmp_path: Path
) -> None:
    source = tmp_path / "broken-plugin"
    module = source / "src" / "poetflow_broken_example"
    module.mkdir(parents=True)
    (module / "__init__.py").write_text("raise ImportError('this plugin is broken on purpose')\n")
    (source / "pyproject.toml").write_text(BROKEN_PLUGIN)
    python = str(plugin_venv / "bin" / "python")
    pip = [python, "-m", "pip", "--disable-pip-version-check", "-q"]
    installed = subprocess.run(
        [*pip, "install", "--no-deps", "--no-build-isolation", str(source)],
        env=_clean_env(), capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    try:
        listed = _poetflow(plugin_venv, "plugins", cwd=demo_repo)
        assert listed.returncode == 0, listed.stderr
        assert "this plugin is broken on purpose" in listed.stdout
        greeted = _poetflow(plugin_venv, "hello", cwd=demo_repo)
        assert greeted.returncode == 0
        built = _poetflow(plugin_venv, "build", "--dry-run", cwd=demo_repo)
        assert built.returncode == 0, built.stderr
        assert "warning: Plugin 'broken' (poetflow.reporters) from poetflow-broken-example" in (
            built.stderr
        )
        assert "Traceback" not in built.stderr
        strict = _poetflow(plugin_venv, "--strict-plugins", "build", "--dry-run", cwd=demo_repo)
        assert strict.returncode == 2
        assert "poetflow-broken-example" in strict.stderr
    finally:
        subprocess.run(
            [*pip, "uninstall", "-y", "poetflow-broken-example"],
            env=_clean_env(), capture_output=True, check=False,
        )  # fmt: skip
    shutil.rmtree(source)
