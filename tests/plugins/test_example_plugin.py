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
    assert "5 passed" in completed.stdout


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


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def init_repo(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "PoetFlow Tests")
    git(root, "config", "user.email", "tests@poetflow.invalid")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "chore: initial commit")


EMOJI_HISTORY = {
    # package: the messages of its commits after its 0.1.0 tag
    "emo-api": [":sparkles: add search", ":boom: drop the v1 endpoints"],
    "emo-core": [":sparkles: add caching", ":bug: fix the cache key"],
    "emo-cli": [":bug: fix --help", ":zap: start faster"],
    "emo-docs": [":memo: explain caching"],
    "emo-old": ["feat: a conventional commit", "Update the readme"],
}


def _emoji_repo(root: Path) -> Path:
    write_workspace(root, {name: [] for name in EMOJI_HISTORY}, build=False)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + "\n[tool.poetflow.version]\nmajor-on-zero = true\n"
    )
    init_repo(root)
    for name in EMOJI_HISTORY:
        git(root, "tag", f"{name}-v0.1.0")
    for name, messages in EMOJI_HISTORY.items():
        for number, message in enumerate(messages):
            changed = root / "packages" / name / f"change{number}.txt"
            changed.write_text(message)
            git(root, "add", "-A")
            git(root, "commit", "-q", "-m", message)
    return root


def _next_versions(venv_dir: Path, root: Path) -> dict[str, dict[str, object]]:
    planned = _poetflow(venv_dir, "version", "bump", "--dry-run", "--json", cwd=root)
    assert planned.returncode == 0, planned.stderr
    return {entry["name"]: entry for entry in json.loads(planned.stdout)["packages"]}


def test_the_emoji_commit_parser_decides_the_next_versions(
    plugin_venv: Path, tmp_path: Path
) -> None:
    root = _emoji_repo(tmp_path / "mono")
    # Without the setting the emoji commits are not conventional: only emo-old releases.
    plain = _next_versions(plugin_venv, root)
    assert {name: entry["next"] for name, entry in plain.items()} == {
        "emo-api": "0.1.0", "emo-cli": "0.1.0", "emo-core": "0.1.0", "emo-docs": "0.1.0",
        "emo-old": "0.2.0",
    }  # fmt: skip

    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'commit-parser = "emoji"\n')
    plan = _next_versions(plugin_venv, root)
    assert {name: entry["next"] for name, entry in plan.items()} == {
        "emo-api": "1.0.0",  # :boom: is a major change
        "emo-cli": "0.1.1",  # :bug: and :zap: are patches
        "emo-core": "0.2.0",  # :sparkles: beats :bug:
        "emo-docs": "0.1.0",  # :memo: releases nothing
        "emo-old": "0.1.0",  # not emoji: counted, no bump
    }
    assert "1 breaking change" in plan["emo-api"]["reasons"]
    assert "2 non-conventional commits ignored" in plan["emo-old"]["reasons"]

    # The changelog files the commits under the parser's sections.
    written = _poetflow(plugin_venv, "changelog", cwd=root)
    assert written.returncode == 0, written.stderr
    changelog = (root / "packages" / "emo-core" / "CHANGELOG.md").read_text()
    assert "### Features\n\n- add caching" in changelog
    assert "### Bug fixes\n\n- fix the cache key" in changelog
    assert (
        "### Breaking changes\n\n- drop the v1 endpoints"
        in (root / "packages" / "emo-api" / "CHANGELOG.md").read_text()
    )


def test_an_unknown_commit_parser_is_a_config_error(plugin_venv: Path, tmp_path: Path) -> None:
    root = _emoji_repo(tmp_path / "mono")
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + 'commit-parser = "gitmoji"\n')
    planned = _poetflow(plugin_venv, "version", "bump", "--dry-run", cwd=root)
    assert planned.returncode == 2
    assert str(pyproject) in planned.stderr
    assert "commit-parser is 'gitmoji'" in planned.stderr
    assert "(installed: emoji)" in planned.stderr
    assert "Traceback" not in planned.stderr


def test_the_folder_publisher_stores_the_wheels_dependencies_first(
    plugin_venv: Path, tmp_path: Path
) -> None:
    root = write_workspace(tmp_path / "mono", {"hello-core": [], "hello-app": ["hello-core"]})
    store = tmp_path / "store"
    dry = _poetflow(
        plugin_venv, "publish", "--publisher", "hello-store", "--dry-run", "--json", cwd=root,
        POETFLOW_HELLO_STORE=str(store),
    )  # fmt: skip
    assert dry.returncode == 0, dry.stderr
    assert {p["status"] for p in json.loads(dry.stdout)["packages"]} == {"would publish"}
    assert not store.exists()

    published = _poetflow(
        plugin_venv, "publish", "--publisher", "hello-store", "--json", cwd=root,
        POETFLOW_HELLO_STORE=str(store),
    )  # fmt: skip
    assert published.returncode == 0, published.stdout + published.stderr
    report = json.loads(published.stdout)
    assert [package["name"] for package in report["packages"]] == ["hello-core", "hello-app"]
    assert report["repository"]["name"] == "hello-store"
    for package in report["packages"]:
        assert package["status"] == "published"
        for item in package["files"]:
            stored = store / package["name"] / item["file"]
            assert item["status"] == "uploaded"
            assert item["url"] == stored.as_uri()
            assert stored.read_bytes() == Path(item["path"]).read_bytes()
    assert (store / "hello-core" / "hello_core-0.1.0-py3-none-any.whl").is_file()
    assert (store / "hello-app" / "hello_app-0.1.0-py3-none-any.whl").is_file()

    again = _poetflow(
        plugin_venv, "publish", "--publisher", "hello-store", cwd=root,
        POETFLOW_HELLO_STORE=str(store),
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "0 uploaded, 4 skipped, 0 failed, 0 blocked" in again.stdout


def test_a_failing_publisher_blocks_the_dependents(plugin_venv: Path, tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "mono", {"hello-core": [], "hello-app": ["hello-core"]})
    store = tmp_path / "store"
    clash = store / "hello-core" / "hello_core-0.1.0-py3-none-any.whl"
    clash.parent.mkdir(parents=True)
    clash.write_bytes(b"another build of the same version")
    published = _poetflow(
        plugin_venv, "publish", "--publisher", "hello-store", "--json", cwd=root,
        POETFLOW_HELLO_STORE=str(store),
    )  # fmt: skip
    assert published.returncode == 1
    report = {package["name"]: package for package in json.loads(published.stdout)["packages"]}
    assert report["hello-core"]["status"] == "failed"
    assert "bump the version" in report["hello-core"]["detail"]
    assert report["hello-app"]["status"] == "blocked"
    assert {item["status"] for item in report["hello-app"]["files"]} == {"blocked"}
    assert not (store / "hello-app").exists()


def test_an_unknown_publisher_is_a_config_error(plugin_venv: Path, tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "mono", {"hello-core": []}, build=False)
    published = _poetflow(plugin_venv, "publish", "--publisher", "s3", cwd=root)
    assert published.returncode == 2
    assert "publisher 's3'" in published.stderr
    assert "(installed: hello-store)" in published.stderr
    assert "Traceback" not in published.stderr
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text() + '\n[tool.poetflow.publish]\npublisher = "s3"\n'
    )
    configured = _poetflow(plugin_venv, "publish", "--dry-run", cwd=root)
    assert configured.returncode == 2
    assert str(root / "pyproject.toml") in configured.stderr
