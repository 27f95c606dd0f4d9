"""Hooks: configuration, the documented environment, missing programs, and StageHooks order."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from poetflow.errors import ConfigError
from poetflow.hooks.running import HookFailedError, HookNotFoundError, hooks_for, run_pipeline_hooks
from poetflow.hooks.stage import StageHooks
from poetflow.masking import register_secret
from poetflow.workspace import load_workspace

RECORD = 'echo "$POETFLOW_HOOK $POETFLOW_PACKAGE" >> "$POETFLOW_ROOT/order.log"'


def _order(root: Path) -> list[str]:
    log = root / "order.log"
    return log.read_text().splitlines() if log.exists() else []


def test_root_hooks_apply_to_every_package_and_a_package_list_replaces_them(
    hooked_repo: Callable[..., Path],
) -> None:
    root = hooked_repo(
        'pre-build = "make docs"\npost-build = ["twine check dist/*", {run = "ls", timeout = 5}]\n',
        {
            "app": "\n[tool.poetflow.hooks]\n"
            'pre-build = [{run = "true", continue-on-error = true}]\n'
        },
    )
    workspace = load_workspace(root)
    core, app = workspace.get("core"), workspace.get("app")
    assert [hook.run for hook in hooks_for(workspace, "pre-build", core)] == ["make docs"]
    assert [hook.run for hook in hooks_for(workspace, "post-build", core)] == [
        "twine check dist/*",
        "ls",
    ]
    assert hooks_for(workspace, "post-build", core)[1].timeout == 5
    own = hooks_for(workspace, "pre-build", app)
    assert [(hook.run, hook.continue_on_error) for hook in own] == [("true", True)]
    # The package overrides pre-build only; post-build still comes from the root.
    assert len(hooks_for(workspace, "post-build", app)) == 2


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('pre-bild = "x"\n', "unknown hook 'pre-bild'"),
        ('pre-build = [{run = "x", shell = true}]\n', "unknown field(s) shell"),
        ("pre-build = 3\n", "must be a command string or a table"),
        ('pre-build = [{run = "x", timeout = -1}]\n', "timeout must be a positive number"),
        ('pre-build = [{run = "x", pass-env = [1]}]\n', "pass-env must be a list"),
    ],
)
def test_bad_hook_tables_name_the_file_and_key(
    hooked_repo: Callable[..., Path], table: str, expected: str
) -> None:
    root = hooked_repo(table)
    # Validated when the workspace loads: every command refuses it before doing anything.
    with pytest.raises(ConfigError) as error:
        load_workspace(root)
    assert expected in str(error.value)
    assert str(root / "pyproject.toml") in str(error.value)
    assert error.value.exit_code == 2


def test_pipeline_hooks_in_a_package_are_refused(hooked_repo: Callable[..., Path]) -> None:
    root = hooked_repo("", {"core": '\n[tool.poetflow.hooks]\npost-run = "true"\n'})
    with pytest.raises(ConfigError, match=r"belongs in the root pyproject\.toml"):
        load_workspace(root)


def test_hooks_run_in_the_package_folder_with_the_documented_environment(
    hooked_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    dump = (
        "python3 -c 'import json, os; print(json.dumps({**dict(os.environ), "
        '"cwd": os.getcwd()}))\' > env-$POETFLOW_HOOK.json'
    )
    root = hooked_repo(f"pre-build = [{json.dumps(dump)}]\npost-build = [{json.dumps(dump)}]\n")
    workspace = load_workspace(root)
    core = workspace.get("core")
    wheel = core.path / "dist" / "core-1.0.0-py3-none-any.whl"
    hooks = StageHooks(workspace, "build", [core])
    result = hooks.run(
        core, lambda: "built", next_version="1.1.0", result_artifacts=lambda _r: [wheel]
    )
    assert result == "built"
    before = json.loads((core.path / "env-pre-build.json").read_text())
    after = json.loads((core.path / "env-post-build.json").read_text())
    assert Path(before["cwd"]) == core.path
    assert before["POETFLOW_STAGE"] == "build"
    assert before["POETFLOW_PACKAGE"] == "core"
    assert before["POETFLOW_PACKAGE_PATH"] == str(core.path)
    assert before["POETFLOW_VERSION"] == "1.0.0"
    assert before["POETFLOW_NEXT_VERSION"] == "1.1.0"
    assert before["POETFLOW_DRY_RUN"] == "0"
    assert before["POETFLOW_ARTIFACTS"] == ""
    assert after["POETFLOW_ARTIFACTS"] == str(wheel)
    # The report so far: the post-hook of a package sees nothing finished yet, a JSON file.
    report = json.loads(Path(after["POETFLOW_REPORT"]).read_text())
    assert report["stage"] == "build"
    assert report["packages"] == {}
    assert [hook.status for hook in hooks.results] == ["passed", "passed"]


def test_credentials_are_removed_unless_the_hook_names_them(
    hooked_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = {
        "POETFLOW_TOKEN": "pf-token-123456",
        "POETFLOW_REPOSITORY_INTERNAL_PASSWORD": "repo-pass-123456",
        "POETRY_PYPI_TOKEN_PYPI": "pypi-AgEIcHlwaS5vcmc",
        "POETRY_HTTP_BASIC_INTERNAL_PASSWORD": "basic-pass-123456",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-request-123456",
        "SIGSTORE_ID_TOKEN": "eyJsigstore123456",
        "TWINE_PASSWORD": "twine-pass-123456",
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("ODDLY_NAMED", "registered-secret-value")
    register_secret("registered-secret-value")
    monkeypatch.setenv("SLACK_WEBHOOK", "https://chat.invalid/hook")
    monkeypatch.setenv("HARMLESS", "visible")
    root = hooked_repo(
        'post-publish = ["env > plain.env", '
        '{run = "env > opted.env", pass-env = ["POETRY_PYPI_TOKEN_PYPI", "SLACK_WEBHOOK"]}]\n'
    )
    workspace = load_workspace(root)
    core = workspace.get("core")
    StageHooks(workspace, "publish", [core]).run(core, lambda: None)
    plain = (core.path / "plain.env").read_text()
    opted = (core.path / "opted.env").read_text()
    for name, value in secrets.items():
        assert value not in plain, name
    assert "registered-secret-value" not in plain
    assert "HARMLESS=visible" in plain
    assert "SLACK_WEBHOOK=https://chat.invalid/hook" in plain
    assert "POETRY_PYPI_TOKEN_PYPI=pypi-AgEIcHlwaS5vcmc" in opted
    assert "pf-token-123456" not in opted


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("make-the-docs --fast", "runs 'make-the-docs', which is not on PATH"),
        ("./scripts/gen-docs.sh", "which does not exist"),
        ("./scripts/not-exec.sh", "not executable"),
        ("FOO=1 no-such-tool-xyz", "'no-such-tool-xyz'"),
    ],
)
def test_a_missing_or_non_executable_program_is_exit_2_naming_hook_and_package(
    hooked_repo: Callable[..., Path], command: str, expected: str
) -> None:
    root = hooked_repo(f"pre-test = [{json.dumps(command)}]\n")
    for package in ("core", "app"):
        scripts = root / "packages" / package / "scripts"
        scripts.mkdir()
        (scripts / "not-exec.sh").write_text("#!/bin/sh\necho hi\n")
    workspace = load_workspace(root)
    with pytest.raises(HookNotFoundError) as error:
        StageHooks(workspace, "test", [workspace.get("app")])
    message = str(error.value)
    assert expected in message
    assert "pre-test hook of package 'app'" in message
    assert error.value.exit_code == 2
    assert not _order(root)


def test_shell_builtins_variables_and_executable_scripts_pass_the_check(
    hooked_repo: Callable[..., Path],
) -> None:
    # The variable-led command uses a variable PoetFlow itself sets, so the test does
    # not depend on the caller's environment (CI runners may have no $SHELL).
    root = hooked_repo(
        'pre-build = ["cd src && ls", "$POETFLOW_PACKAGE_PATH/gen.sh", "./gen.sh", '
        '{run = "pwd > where.txt", cwd = "src"}]\n'
    )
    for package in ("core", "app"):
        script = root / "packages" / package / "gen.sh"
        script.write_text("#!/bin/sh\necho generated > generated.txt\n")
        script.chmod(0o755)
    workspace = load_workspace(root)
    app = workspace.get("app")
    StageHooks(workspace, "build", workspace.packages).run(app, lambda: None)
    assert (app.path / "generated.txt").read_text() == "generated\n"
    assert (app.path / "src" / "where.txt").read_text().strip() == str(app.path / "src")


def test_pre_body_post_run_in_order_and_a_failing_pre_hook_skips_the_stage(
    hooked_repo: Callable[..., Path],
) -> None:
    root = hooked_repo(
        f"pre-build = [{json.dumps(RECORD)}]\npost-build = [{json.dumps(RECORD)}]\n",
        {
            "app": "\n[tool.poetflow.hooks]\n"
            f'pre-build = [{json.dumps(RECORD)}, "echo docs broke; exit 3"]\n'
        },
    )
    workspace = load_workspace(root)
    hooks = StageHooks(workspace, "build", workspace.packages)
    ran: list[str] = []

    def body(name: str) -> Callable[[], str]:
        def run() -> str:
            with (root / "order.log").open("a") as log:
                log.write(f"body {name}\n")
            ran.append(name)
            return name

        return run

    hooks.run(workspace.get("core"), body("core"))
    with pytest.raises(HookFailedError) as error:
        hooks.run(workspace.get("app"), body("app"))
    assert ran == ["core"]
    assert _order(root) == ["pre-build core", "body core", "post-build core", "pre-build app"]
    message = str(error.value)
    assert "pre-build hook 'echo docs broke; exit 3' of package 'app'" in message
    assert "exit code 3" in message
    assert "docs broke" in message  # the captured output
    assert error.value.exit_code == 1


def test_a_failing_post_hook_fails_the_package_but_continue_on_error_does_not(
    hooked_repo: Callable[..., Path],
) -> None:
    root = hooked_repo(
        'post-build = [{run = "echo flaky; exit 1", continue-on-error = true}, "exit 4"]\n'
    )
    workspace = load_workspace(root)
    core = workspace.get("core")
    hooks = StageHooks(workspace, "build", [core])
    with pytest.raises(HookFailedError) as error:
        hooks.run(core, lambda: "the build result")
    assert error.value.result == "the build result"
    assert "'exit 4'" in str(error.value)
    statuses = [(hook.command, hook.status, hook.ok) for hook in hooks.results]
    assert statuses == [("echo flaky; exit 1", "failed", True), ("exit 4", "failed", False)]
    assert "flaky" in hooks.results[0].output


def test_post_hooks_do_not_run_when_the_stage_failed(hooked_repo: Callable[..., Path]) -> None:
    root = hooked_repo(f"post-build = [{json.dumps(RECORD)}]\n")
    workspace = load_workspace(root)
    core = workspace.get("core")
    result = StageHooks(workspace, "build", [core]).run(
        core, lambda: "failed", succeeded=lambda r: r != "failed"
    )
    assert result == "failed"
    assert _order(root) == []


def test_dry_run_lists_hooks_without_running_them(hooked_repo: Callable[..., Path]) -> None:
    root = hooked_repo(f'pre-build = [{json.dumps(RECORD)}]\npost-build = ["exit 9"]\n')
    workspace = load_workspace(root)
    core = workspace.get("core")
    hooks = StageHooks(workspace, "build", [core], dry_run=True)
    hooks.run(core, lambda: "would build")
    assert _order(root) == []
    assert [(hook.key, hook.status) for hook in hooks.results] == [
        ("pre-build", "would run"),
        ("post-build", "would run"),
    ]


def test_a_hook_that_outlives_its_timeout_fails(hooked_repo: Callable[..., Path]) -> None:
    root = hooked_repo('pre-test = [{run = "sleep 5", timeout = 0.5}]\n')
    workspace = load_workspace(root)
    core = workspace.get("core")
    with pytest.raises(HookFailedError, match=r"timed out after 0\.5 s"):
        StageHooks(workspace, "test", [core]).run(core, lambda: None)


def test_pipeline_hooks_run_in_the_root(hooked_repo: Callable[..., Path]) -> None:
    root = hooked_repo(
        'pre-run = "pwd > pre-run.txt; echo $POETFLOW_STAGE >> pre-run.txt"\n'
        'on-failure = ["exit 2"]\n'
    )
    workspace = load_workspace(root)
    results = run_pipeline_hooks(workspace, "pre-run")
    assert [result.status for result in results] == ["passed"]
    assert (root / "pre-run.txt").read_text().split() == [str(root), "run"]
    with pytest.raises(HookFailedError, match="of the pipeline failed with exit code 2"):
        run_pipeline_hooks(workspace, "on-failure")
    assert os.path.exists(root / "pre-run.txt")


def test_pre_run_checks_every_pipeline_hook_before_running_any(
    hooked_repo: Callable[..., Path],
) -> None:
    root = hooked_repo('pre-run = "touch started"\npost-run = ["notify-release-not-installed"]\n')
    with pytest.raises(HookNotFoundError, match="post-run hook of the pipeline"):
        run_pipeline_hooks(load_workspace(root), "pre-run")
    assert not (root / "started").exists()


def test_run_together_runs_every_pre_hook_then_the_write_then_every_post_hook(
    hooked_repo: Callable[..., Path],
) -> None:
    record = (
        'echo "$POETFLOW_HOOK $POETFLOW_PACKAGE $POETFLOW_ARTIFACTS" >> "$POETFLOW_ROOT/order.log"'
    )
    root = hooked_repo(f"pre-sign = [{json.dumps(record)}]\npost-sign = [{json.dumps(record)}]\n")
    workspace = load_workspace(root)
    core, app = workspace.get("core"), workspace.get("app")
    hooks = StageHooks(workspace, "sign", [core, app])

    def sign() -> str:
        with (root / "order.log").open("a") as log:
            log.write("sign all\n")
        return "signed"

    result = hooks.run_together(
        [core, app], sign, artifacts={"core": [Path("/d/core.whl")], "app": [Path("/d/app.whl")]}
    )
    assert result == "signed"
    assert _order(root) == [
        "pre-sign core /d/core.whl",
        "pre-sign app /d/app.whl",
        "sign all",
        "post-sign core /d/core.whl",
        "post-sign app /d/app.whl",
    ]
