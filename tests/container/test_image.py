"""The runner image, run the ways GitHub, GitLab and Jenkins run it."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from ci_helpers import parse_github_output
from container_helpers import Run

pytestmark = pytest.mark.slow

UID = 1234


def _chown(path: Path, uid: int) -> None:
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, uid)
        for name in [*dirs, *files]:
            os.lchown(os.path.join(root, name), uid, uid)


@pytest.fixture
def workspace(demo_repo: Path) -> Path:
    """The demo monorepo with a change to acme-core after the first commit, owned by
    another uid (as GitHub mounts the runner's checkout into a root container)."""
    init = demo_repo / "packages" / "core" / "src" / "acme_core" / "__init__.py"
    init.write_text(init.read_text() + "\n# a change\n")
    subprocess.run(["git", "commit", "-qam", "fix(core): a change"], cwd=demo_repo, check=True)
    _chown(demo_repo, UID)
    return demo_repo


@pytest.fixture
def github_files(tmp_path: Path) -> Path:
    """The runner's file-command folder with GITHUB_OUTPUT and GITHUB_STEP_SUMMARY."""
    folder = tmp_path / "file_commands"
    folder.mkdir()
    for name in ("output", "summary"):
        (folder / name).touch()
    _chown(folder, UID)
    return folder


GITHUB_ENV = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_WORKSPACE": "/github/workspace",
    "GITHUB_OUTPUT": "/github/file_commands/output",
    "GITHUB_STEP_SUMMARY": "/github/file_commands/summary",
    "GITHUB_REPOSITORY": "acme/monorepo",
    "GITHUB_RUN_ID": "7",
    "HOME": "/github/home",
}


def test_image_has_labels_tools_and_no_build_tools(
    image: str, run_image: Callable[..., Run]
) -> None:
    inspected = subprocess.run(
        ["podman", "image", "inspect", image], capture_output=True, text=True, check=True
    )
    labels = json.loads(inspected.stdout)[0]["Labels"]
    assert labels["org.opencontainers.image.source"] == "https://github.com/poetflow/poetflow"
    assert labels["org.opencontainers.image.licenses"] == "MIT"
    assert labels["org.opencontainers.image.version"]
    probe = run_image(
        "sh",
        "-c",
        "poetflow --version; poetry --version; git --version; "
        "for tool in gcc cc make pip pip3; do command -v $tool && echo FOUND $tool; done; true",
        workdir="/",
    )
    assert probe.returncode == 0, probe.stderr
    assert "poetflow 0.1.0" in probe.stdout
    assert "Poetry (version 2.5.1)" in probe.stdout
    assert "git version" in probe.stdout
    assert "FOUND" not in probe.stdout


def test_github_action_as_root_in_a_workspace_owned_by_another_uid(
    workspace: Path, github_files: Path, run_image: Callable[..., Run]
) -> None:
    result = run_image(
        volumes=[(workspace, "/github/workspace"), (github_files, "/github/file_commands")],
        env={
            **GITHUB_ENV,
            "INPUT_COMMAND": "discover",
            "INPUT_SINCE": "HEAD~1",  # git (pygit2) must trust the foreign-owned checkout
            "INPUT_DRY-RUN": "false",
            "INPUT_LOG-LEVEL": "info",
            "INPUT_SIGN": "false",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    stdout = result.stdout
    # acme-core changed; everything that depends on it is selected too.
    assert "acme-core" in stdout
    assert "acme-app" in stdout
    # discover works on no package: the hand-over is a minimal report saying so.
    outputs = parse_github_output(github_files / "output")
    assert json.loads(outputs["packages"]) == []
    assert outputs["released"] == "false"
    assert outputs["report"] == ""
    summary = (github_files / "summary").read_text()
    assert "PoetFlow `poetflow --log-level info discover --since 'HEAD~1'`" in summary
    assert "writes no run report of its own" in summary


def test_bad_action_input_fails_with_exit_2_and_an_annotation(
    workspace: Path, github_files: Path, run_image: Callable[..., Run]
) -> None:
    result = run_image(
        volumes=[(workspace, "/github/workspace"), (github_files, "/github/file_commands")],
        env={**GITHUB_ENV, "INPUT_COMMAND": "discover", "INPUT_DRY-RUN": "yes"},
    )
    assert result.returncode == 2
    assert "::error title=PoetFlow::Action input 'dry-run' must be true or false" in result.stderr
    assert result.stdout == ""
    assert parse_github_output(github_files / "output")["released"] == "false"


def test_jenkins_style_arbitrary_uid_builds_with_an_unwritable_home(
    workspace: Path, run_image: Callable[..., Run]
) -> None:
    # Jenkins: `-u uid:gid` with no passwd entry, HOME=/ (not writable), arguments given.
    result = run_image(
        "build",
        "--package",
        "acme-core",
        volumes=[(workspace, "/github/workspace")],
        env={"HOME": "/", "JENKINS_URL": "https://jenkins.example/"},
        user=f"{UID}:{UID}",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    dist = workspace / "packages" / "core" / "dist"
    built = sorted(path.name for path in dist.iterdir())
    assert any(name.endswith(".whl") for name in built), built
    assert any(name.endswith(".tar.gz") for name in built), built
    assert all(path.stat().st_uid == UID for path in dist.iterdir())
    report = json.loads((workspace / ".poetflow" / "poetflow-report.json").read_text())
    assert report["ci"]["system"] == "jenkins"


def test_gitlab_style_shell_script_in_the_image(
    workspace: Path, run_image: Callable[..., Run]
) -> None:
    # GitLab runs `image:` jobs as root with the job script in a shell.
    result = run_image(
        "sh",
        "-c",
        "cd /builds/acme && POETFLOW_COMMAND=graph poetflow-action && cat .poetflow/poetflow.env",
        volumes=[(workspace, "/builds/acme")],
        env={"GITLAB_CI": "true", "CI_PROJECT_DIR": "/builds/acme"},
        workdir="/",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "POETFLOW_RELEASED=false" in result.stdout
    assert "acme-app" in result.stdout


def test_action_inputs_publish_to_a_local_index_from_the_container(
    workspace: Path, github_files: Path, run_image: Callable[..., Run], tmp_path: Path
) -> None:
    from index_server import start_index_server

    server = start_index_server(tmp_path / "index")
    try:
        pyproject = workspace / "pyproject.toml"
        pyproject.write_text(
            pyproject.read_text() + f'\n[tool.poetflow.repositories.local]\nurl = "{server.url}"\n'
        )
        result = run_image(
            volumes=[(workspace, "/github/workspace"), (github_files, "/github/file_commands")],
            env={
                **GITHUB_ENV,
                "INPUT_COMMAND": "publish",
                "INPUT_PACKAGES": "acme-core",
                "INPUT_REPOSITORY": "local",
                "INPUT_ARGS": "--build",
                "POETFLOW_REPOSITORY_LOCAL_USERNAME": server.username,
                "POETFLOW_REPOSITORY_LOCAL_PASSWORD": server.password,
                # pypiserver redirects unknown projects to pypi.org: this machine's HTTPS
                # proxy CA is in the image's system bundle, which requests must use.
                "REQUESTS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt",
            },
            network="host",  # the index listens on the host's 127.0.0.1
        )
        assert result.returncode == 0, result.stdout + result.stderr
        uploaded = server.files()
        assert any(name.endswith(".whl") for name in uploaded), uploaded
        assert any(name.startswith("acme_core") for name in uploaded), uploaded
        # The credentials were masked for GitHub first (on stderr, which the runner reads
        # too), and never printed.
        lines = result.stderr.splitlines()
        masks = [line for line in lines if line.startswith("::add-mask::")]
        assert f"::add-mask::{server.password}" in masks
        assert lines[: len(masks)] == masks
        assert server.password not in "\n".join(x for x in lines if "::add-mask::" not in x)
        assert server.password not in result.stdout
        assert server.password not in (github_files / "summary").read_text()
        outputs = parse_github_output(github_files / "output")
        assert outputs["report"] == ".poetflow/poetflow-report.json"
        # What publish did, to acme-core only: its artifacts, with their sha256.
        assert json.loads(outputs["packages"]) == ["acme-core"]
        report = json.loads((workspace / outputs["report"]).read_text())
        (core,) = report["packages"]
        assert {len(a["sha256"]) for a in core["artifacts"]} == {64}
    finally:
        server.stop()


def test_action_inputs_drive_a_release_run_in_the_container(
    workspace: Path, github_files: Path, run_image: Callable[..., Run], tmp_path: Path
) -> None:
    from index_server import start_index_server
    from poetflow.cli.app import COMMAND_MODULES

    if "run" not in COMMAND_MODULES:
        pytest.skip("poetflow run is not registered yet")
    server = start_index_server(tmp_path / "index")
    try:
        pyproject = workspace / "pyproject.toml"
        pyproject.write_text(
            pyproject.read_text() + f'\n[tool.poetflow.repositories.local]\nurl = "{server.url}"\n'
        )
        subprocess.run(
            ["git", "-c", "safe.directory=*", "commit", "-qam", "chore: the local index"],
            cwd=workspace,
            check=True,
        )
        _chown(workspace, UID)
        result = run_image(
            volumes=[(workspace, "/github/workspace"), (github_files, "/github/file_commands")],
            env={
                **GITHUB_ENV,
                "INPUT_COMMAND": "run",
                "INPUT_REPOSITORY": "local",
                # The test stage locks each package against PyPI: covered by tests/qa on the
                # host; here version -> build -> release -> publish run in the container.
                "INPUT_SKIP": "test",
                "INPUT_DRY-RUN": "false",
                "INPUT_SIGN": "false",
                "POETFLOW_REPOSITORY_LOCAL_USERNAME": server.username,
                "POETFLOW_REPOSITORY_LOCAL_PASSWORD": server.password,
                "GIT_AUTHOR_NAME": "CI",
                "GIT_AUTHOR_EMAIL": "ci@example.invalid",
                "GIT_COMMITTER_NAME": "CI",
                "GIT_COMMITTER_EMAIL": "ci@example.invalid",
                "REQUESTS_CA_BUNDLE": "/etc/ssl/certs/ca-certificates.crt",
            },
            network="host",
        )
        assert result.returncode == 0, result.stdout + result.stderr
        outputs = parse_github_output(github_files / "output")
        assert outputs["released"] == "true"
        versions = json.loads(outputs["versions"])
        new = versions["acme-core"]
        assert new != "1.2.0"  # bumped by the "fix(core)" commit
        assert "acme-core" in json.loads(outputs["released-packages"])
        assert f"acme_core-{new}-py3-none-any.whl" in server.files()
        summary = (github_files / "summary").read_text()
        assert f"| acme-core | 1.2.0 → **{new}** |" in summary
        assert server.password not in summary
        report = json.loads((workspace / outputs["report"]).read_text())
        core = next(p for p in report["packages"] if p["name"] == "acme-core")
        assert core["published_to"]
        assert all(len(a["sha256"]) == 64 for a in core["artifacts"])
    finally:
        server.stop()
