"""The CI seam: detection, facts, formats and templates come from one registry.

A CI system is one module in poetflow.ci and one registry line; these tests hold the rest
of PoetFlow to never naming one.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from ci_helpers import ci_environment, parse_azure_commands
from tests.conftest import CliResult

from poetflow.ci.azure import azure_matrix, escape_data, escape_property, logging_command
from poetflow.ci.registry import (
    CI_SYSTEMS,
    detect_system,
    plan_formats,
    system_classes,
    template_systems,
)

SRC = Path(__file__).resolve().parents[2] / "src" / "poetflow"


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({}, "local"),
        ({"GITHUB_ACTIONS": "true"}, "github"),
        ({"GITLAB_CI": "true"}, "gitlab"),
        ({"TF_BUILD": "True"}, "azure"),
        ({"BITBUCKET_BUILD_NUMBER": "7"}, "bitbucket"),
        ({"JENKINS_URL": "https://ci.example/"}, "jenkins"),
        ({"JENKINS_HOME": "/var/jenkins_home"}, "jenkins"),
        ({"GITHUB_ACTIONS": "false", "TF_BUILD": "False"}, "local"),
    ],
)
def test_each_system_is_detected_from_its_documented_variable(
    env: dict[str, str], name: str
) -> None:
    assert detect_system(env).name == name


@pytest.mark.parametrize("system", ["github", "gitlab", "azure", "bitbucket"])
def test_the_report_records_each_systems_run(system: str, tmp_path: Path) -> None:
    detected = detect_system(ci_environment(system, tmp_path / "checkout", tmp_path))
    fields = detected.report_fields()
    assert fields["system"] == system
    assert fields["run_url"].startswith("https://")
    assert detected.workspace == tmp_path / "checkout"


def test_the_registry_is_one_line_per_system() -> None:
    classes = system_classes()
    assert len(classes) == len(CI_SYSTEMS)
    names = [cls.name for cls in classes]
    assert len(set(names)) == len(names)
    assert names[-1] == "local"  # the fallback detects everything, so it comes last
    assert set(template_systems()) == {"github", "gitlab", "azure", "bitbucket", "jenkins"}
    assert set(plan_formats()) == {"github-matrix", "gitlab-pipeline", "azure-matrix"}
    for cls in classes:
        for member in ("detect", "report_fields", "mask_commands", "hand_over", "title"):
            assert hasattr(cls, member), (cls, member)


def _named_systems(path: Path, names: set[str]) -> list[str]:
    """String constants and poetflow.ci.<system> imports in ``path`` that name a system."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            words = set(node.value.replace("`", " ").replace("-", " ").split())
            if node.value in names or (words & names and "--format" in node.value):
                found.append(f"{path.name}:{node.lineno}: {node.value!r}")
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("poetflow.ci.")
            and node.module.rsplit(".", 1)[-1] in names
        ):
            found.append(f"{path.name}:{node.lineno}: import {node.module}")
    return found


def test_cli_init_planning_and_the_container_name_no_system() -> None:
    names = {cls.name for cls in system_classes()} | set(plan_formats())
    files = [
        *sorted((SRC / "cli").glob("*.py")),
        SRC / "init.py",
        SRC / "pipeline" / "planning.py",
        SRC / "ci" / "container.py",
        SRC / "ci" / "handover.py",
        SRC / "report.py",
    ]
    found = [hit for path in files for hit in _named_systems(path, names)]
    assert not found, found


def test_azure_escapes_messages_and_properties_as_the_agent_unescapes_them() -> None:
    assert escape_data("100%\r\nnext;]") == "100%AZP25%0D%0Anext;]"
    assert escape_property("a;b]c%\n") == "a%3Bb%5Dc%AZP25%0A"
    line = logging_command(
        "task.logissue", "2 failed; see ]log[\n100%", type="error", sourcepath="a;b]/pyproject.toml"
    )
    assert line == (
        "##vso[task.logissue type=error;sourcepath=a%3Bb%5D/pyproject.toml]"
        "2 failed; see ]log[%0A100%AZP25"
    )
    assert parse_azure_commands(line) == [
        (
            "task.logissue",
            {"type": "error", "sourcepath": "a;b]/pyproject.toml"},
            "2 failed; see ]log[\n100%",
        )
    ]


def test_azure_matrix_keys_are_valid_job_names() -> None:
    plan = {
        "packages": [
            {"package": "acme-core", "path": "packages/core"},
            {"package": "3d.tools", "path": "packages/3d"},
        ]
    }
    assert json.loads(azure_matrix(plan)) == {
        "acme_core": {"package": "acme-core", "path": "packages/core"},
        "pkg_3d_tools": {"package": "3d.tools", "path": "packages/3d"},
    }
    assert azure_matrix({"packages": []}) == "{}"  # the template's condition skips the job


def test_plan_prints_every_systems_format(
    demo_repo: Path, run_cli: Callable[..., CliResult]
) -> None:
    azure = run_cli("plan", "--all", "--format", "azure-matrix", cwd=demo_repo)
    assert azure.exit_code == 0, azure.stderr
    core = {"package": "acme-core", "path": "packages/core"}
    assert json.loads(azure.stdout)["acme_core"] == core
    github = run_cli("plan", "--all", "--format", "github-matrix", cwd=demo_repo)
    assert {"package": "acme-core", "path": "packages/core"} in json.loads(github.stdout)["include"]
    gitlab = run_cli("plan", "--all", "--format", "gitlab-pipeline", cwd=demo_repo)
    assert "release-acme-core" in yaml.safe_load(gitlab.stdout)
    unknown = run_cli("plan", "--format", "travis-matrix", cwd=demo_repo)
    assert unknown.exit_code == 2
    assert "azure-matrix" in unknown.stderr
