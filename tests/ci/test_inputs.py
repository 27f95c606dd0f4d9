"""Action inputs and POETFLOW_* variables become the poetflow command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from poetflow.ci.inputs import InputError, invocation_from_env, read_inputs


def test_container_arguments_win_over_inputs() -> None:
    invocation = invocation_from_env(["discover", "--json"], {"INPUT_COMMAND": "run"})
    assert invocation.argv == ("discover", "--json")
    assert invocation.source == "argv"


def test_a_leading_poetflow_word_is_dropped() -> None:
    assert invocation_from_env(["poetflow", "graph"], {}).argv == ("graph",)


def test_github_inputs_map_to_options_with_globals_first() -> None:
    env = {
        "INPUT_COMMAND": "run",
        "INPUT_PACKAGES": "acme-core, acme-http\nacme-app",
        "INPUT_SINCE": "origin/main",
        "INPUT_DRY-RUN": "true",
        "INPUT_SIGN": "false",
        "INPUT_LOG-LEVEL": "debug",
        "INPUT_JOBS": "3",
        "INPUT_REPOSITORY-URL": "http://127.0.0.1:8080/",
        "INPUT_STAGES": "",  # GitHub passes every input; empty means unset
    }
    invocation = invocation_from_env([], env)
    assert invocation.source == "inputs"
    assert invocation.argv == (
        "--dry-run",
        "--log-level",
        "debug",
        "run",
        "--package",
        "acme-core",
        "--package",
        "acme-http",
        "--package",
        "acme-app",
        "--since",
        "origin/main",
        "--repository-url",
        "http://127.0.0.1:8080/",
        "--jobs",
        "3",
    )


def test_hyphen_and_underscore_spellings_are_both_accepted() -> None:
    assert invocation_from_env([], {"INPUT_DRY_RUN": "true", "INPUT_COMMAND": "plan"}).argv == (
        "--dry-run",
        "plan",
    )
    # GitHub's own spelling keeps the hyphen and wins when both are present.
    both = read_inputs({"INPUT_REPOSITORY-URL": "https://a/", "INPUT_REPOSITORY_URL": "https://b/"})
    assert both == {"repository-url": "https://a/"}


@pytest.mark.parametrize("value", ["yes", "1", "on", "", " True "])
def test_booleans_are_strictly_true_or_false(value: str) -> None:
    env = {"INPUT_COMMAND": "run", "INPUT_SIGN": value}
    if not value.strip():
        assert "--sign" not in invocation_from_env([], env).argv
        return
    if value.strip() == "True":
        assert "--sign" in invocation_from_env([], env).argv
        return
    with pytest.raises(InputError) as caught:
        invocation_from_env([], env)
    assert caught.value.exit_code == 2
    assert "Action input 'sign' must be true or false" in str(caught.value)


def test_jobs_must_be_a_positive_number() -> None:
    with pytest.raises(InputError, match="'jobs' must be a whole number"):
        invocation_from_env([], {"INPUT_JOBS": "many"})


def test_command_with_subcommand_words_and_extra_args() -> None:
    env = {"INPUT_COMMAND": "version bump auto", "INPUT_ARGS": "--commit --message 'chore: x'"}
    assert invocation_from_env([], env).argv == (
        "version",
        "bump",
        "auto",
        "--commit",
        "--message",
        "chore: x",
    )


def test_poetflow_variables_are_used_without_inputs() -> None:
    env = {"POETFLOW_COMMAND": "publish", "POETFLOW_PACKAGES": "acme-core", "POETFLOW_SIGN": "1"}
    invocation = invocation_from_env([], env)
    assert invocation.source == "env"
    assert invocation.argv == ("publish", "--package", "acme-core", "--sign")


def test_options_go_only_to_commands_that_have_them() -> None:
    # GitHub passes every input with its default (report-dir: .poetflow); the GitLab
    # component sets POETFLOW_REPORT_DIR for any command. discover has no --report-dir.
    inputs = {"INPUT_COMMAND": "discover", "INPUT_REPORT-DIR": ".poetflow", "INPUT_JOBS": "3"}
    invocation = invocation_from_env([], inputs)
    assert invocation.argv == ("discover",)
    # An input the user set to something of their own is left out with a note saying so.
    assert invocation.ignored == (
        "Action input 'jobs' does not apply to `poetflow discover`; it was left out.",
    )
    env = {"POETFLOW_COMMAND": "build", "POETFLOW_SIGN": "1", "POETFLOW_REPORT_DIR": "out"}
    assert invocation_from_env([], env).argv == ("build", "--report-dir", "out")
    # Subcommand words are followed to the command that runs.
    bump = {"INPUT_COMMAND": "version bump auto", "INPUT_REPORT-DIR": "out", "INPUT_SIGN": "true"}
    assert invocation_from_env([], bump).argv == ("version", "bump", "auto", "--report-dir", "out")
    # A command the CLI does not have gets the options as given: the CLI says what is wrong.
    unknown = invocation_from_env([], {"INPUT_COMMAND": "deploy", "INPUT_JOBS": "2"})
    assert unknown.argv == ("deploy", "--jobs", "2")


def test_action_input_defaults_are_those_of_action_yml() -> None:
    import yaml

    from poetflow.ci.inputs import ACTION_INPUTS

    action = yaml.safe_load((Path(__file__).resolve().parents[2] / "action.yml").read_text())
    declared = {name: str(spec["default"]) for name, spec in action["inputs"].items()}
    assert {spec.name: spec.default for spec in ACTION_INPUTS} == declared
    assert [spec.name for spec in ACTION_INPUTS] == list(action["inputs"])


def test_nothing_given_means_poetflow_run() -> None:
    invocation = invocation_from_env([], {"PATH": "/usr/bin"})
    assert invocation.argv == ("run",)
    assert invocation.source == "default"


def test_working_directory_is_relative_to_the_workspace(tmp_path: Path) -> None:
    (tmp_path / "monorepo").mkdir()
    env = {"GITHUB_WORKSPACE": str(tmp_path), "INPUT_WORKING-DIRECTORY": "monorepo"}
    assert invocation_from_env([], env).cwd == tmp_path / "monorepo"
    with pytest.raises(InputError, match="is not a directory"):
        invocation_from_env([], {**env, "INPUT_WORKING-DIRECTORY": "missing"})


def test_a_ci_shell_command_runs_as_it_is() -> None:
    # GitLab starts `image:` containers with a shell, Jenkins with `cat`.
    invocation = invocation_from_env(["sh", "-c", "echo hi"], {})
    assert invocation.passthrough
    assert invocation.argv == ("sh", "-c", "echo hi")
    # `test` is a program too, but here it is the poetflow command.
    assert not invocation_from_env(["test", "--all"], {}).passthrough


def test_report_dir_goes_on_argv_only_for_commands_that_take_it() -> None:
    # GitHub passes the report-dir input's default (.poetflow) with every command.
    env = {"INPUT_COMMAND": "discover", "INPUT_REPORT-DIR": "reports", "INPUT_LOG-LEVEL": "info"}
    discover = invocation_from_env([], env)
    assert discover.argv == ("--log-level", "info", "discover")
    assert discover.report_dir == "reports"
    run = invocation_from_env([], {**env, "INPUT_COMMAND": "run"})
    assert run.argv == ("--log-level", "info", "run", "--report-dir", "reports")
    component = invocation_from_env([], {"POETFLOW_COMMAND": "plan", "POETFLOW_REPORT_DIR": "r"})
    assert component.argv == ("plan",)


def test_github_passes_the_args_input_as_container_arguments_too() -> None:
    # A docker action's `with: args:` also becomes the container's CMD: it is still the input.
    env = {"GITHUB_ACTIONS": "true", "INPUT_COMMAND": "run", "INPUT_ARGS": "--push --jobs 2"}
    invocation = invocation_from_env(["--push", "--jobs", "2"], env)
    assert invocation.source == "inputs"
    assert invocation.argv == ("run", "--push", "--jobs", "2")
    # Arguments that are not the args input still win (docker run image discover).
    assert invocation_from_env(["discover"], env).argv == ("discover",)
