"""Every secret is masked by the CI system before anything can print it, line by line.

Mask commands go to stderr (both runners read workflow commands there too), so stdout
stays the command's own: `--json` output is a JSON document whatever the CI system.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from ci_helpers import ci_environment, parse_azure_commands
from tests.conftest import CliResult

from poetflow.ci.container import run_container
from poetflow.ci.handover import ci_session
from poetflow.masking import register_secret

# A multi-line secret whose lines hold the characters each format must escape.
KEY_LINES = [
    "-----BEGIN PRIVATE KEY-----",
    "MIIEvQ%IBADANBgkq;hkiG9w0]BAQEFAASC",
    "second-line-0123456789-secret",
    "-----END PRIVATE KEY-----",
]
KEY = "\n".join(KEY_LINES) + "\n"


@pytest.fixture(autouse=True)
def _keep_cwd() -> Iterator[None]:
    previous = Path.cwd()
    yield
    os.chdir(previous)


def _github_masks(err: str) -> list[str]:
    """The secrets of the ``::add-mask::`` lines, unescaped as the Actions runner does."""
    prefix = "::add-mask::"
    return [
        line[len(prefix) :].replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")
        for line in err.splitlines()
        if line.startswith(prefix)
    ]


def _azure_masks(err: str) -> list[str]:
    return [message for cmd, _, message in parse_azure_commands(err) if cmd == "task.setsecret"]


MASKS = {"github": _github_masks, "azure": _azure_masks}


def _leaks(text: str) -> list[str]:
    """Lines other than mask commands that show any line of the key."""
    return [
        line
        for line in text.splitlines()
        if any(secret in line for secret in KEY_LINES[1:3])
        and not line.startswith(("::add-mask::", "##vso[task.setsecret]"))
    ]


def _secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "signing-key"
    path.write_text(KEY, encoding="utf-8")
    return path


@pytest.mark.parametrize("system", ["github", "azure"])
@pytest.mark.parametrize("json_mode", [False, True], ids=["text", "json"])
def test_the_container_masks_a_multi_line_secret_line_by_line_first(
    system: str,
    json_mode: bool,
    demo_repo: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {
        **os.environ,
        **ci_environment(system, demo_repo, tmp_path),
        "POETFLOW_TOKEN_FILE": str(_secret_file(tmp_path)),
    }
    os.chdir(demo_repo)
    argv = ["discover", *(["--json"] if json_mode else [])]
    assert run_container(argv, env) == 0
    captured = capsys.readouterr()
    masks = MASKS[system](captured.err)
    assert masks == KEY_LINES  # each line once, nothing multi-line
    first = captured.err.splitlines()[: len(masks)]
    assert len(MASKS[system]("\n".join(first))) == len(masks)  # before anything else
    if json_mode:
        assert [p["name"] for p in json.loads(captured.out)["packages"]]
    assert "add-mask" not in captured.out
    assert "##vso" not in captured.out
    assert not _leaks(captured.out + captured.err)


@pytest.mark.parametrize("system", ["github", "azure"])
@pytest.mark.parametrize("json_mode", [False, True], ids=["text", "json"])
def test_the_cli_masks_a_multi_line_secret_line_by_line(
    system: str,
    json_mode: bool,
    demo_repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[..., CliResult],
) -> None:
    for key, value in ci_environment(system, demo_repo, tmp_path).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("POETRY_HTTP_BASIC_INTERNAL_PASSWORD_FILE", str(_secret_file(tmp_path)))
    result = run_cli("graph", *(["--json"] if json_mode else []), cwd=demo_repo)
    assert result.exit_code == 0, result.stderr
    assert MASKS[system](result.stderr) == KEY_LINES
    if json_mode:
        json.loads(result.stdout)
    assert "add-mask" not in result.stdout
    assert "##vso" not in result.stdout


@pytest.mark.parametrize("system", ["github", "azure"])
def test_a_secret_registered_later_is_masked_the_moment_it_is(
    system: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = ci_environment(system, tmp_path, tmp_path)
    first, second = f"minted-{system}-line-0123", f"minted-{system}-line-4567"
    with ci_session(env):
        capsys.readouterr()
        register_secret(f"{first}\n{second}")
        assert MASKS[system](capsys.readouterr().err) == [first, second]
        register_secret(f"{first}\n{second}")
        register_secret(second)  # a line already masked
        assert capsys.readouterr().err == ""


def test_no_mask_commands_where_the_system_has_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for system in ("gitlab", "bitbucket"):
        with ci_session(ci_environment(system, tmp_path, tmp_path)):
            register_secret(f"a-{system}-secret-0123")
    with ci_session({}):
        register_secret("a-local-secret-0123")
    assert capsys.readouterr().err == ""


@pytest.mark.slow
def test_a_token_minted_by_trusted_publishing_is_masked_when_minted(
    demo_repo: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    run_cli: Callable[..., CliResult],
) -> None:
    tests = Path(__file__).resolve().parents[1]
    monkeypatch.syspath_prepend(str(tests))
    monkeypatch.syspath_prepend(str(tests / "publish"))
    from publish_fixtures import write_workspace
    from test_trusted_publishing import AUDIENCE, MINTED, OidcDouble, _jwt

    from index_server import start_index_server

    server = start_index_server(tmp_path / "index", "__token__", MINTED)
    oidc = OidcDouble(server, "acme/mono")
    try:
        root = write_workspace(tmp_path / "mono", {"acme-core": []}, oidc.url)
        for key, value in ci_environment("azure", root, tmp_path).items():
            monkeypatch.setenv(key, value)
        identity = _jwt({"aud": AUDIENCE, "project_path": "acme/mono"})
        monkeypatch.setenv("POETFLOW_ID_TOKEN", identity)
        result = run_cli("publish", "--root", root, "-r", "local", "--json")
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["credentials"] == "trusted publishing (gitlab)"
        commands = parse_azure_commands(result.stderr)
        secrets = [m for c, _, m in commands if c == "task.setsecret"]
        assert identity in secrets  # from the environment, before the command ran
        assert MINTED in secrets  # minted during the upload
        minted_at = next(i for i, (c, _, m) in enumerate(commands) if m == MINTED)
        handed_at = next(i for i, (c, _, _) in enumerate(commands) if c == "task.setvariable")
        assert minted_at < handed_at
        shown = [line for line in result.stderr.splitlines() if "task.setsecret" not in line]
        assert not [line for line in shown if MINTED in line]
        assert MINTED not in result.stdout
    finally:
        oidc.proxy.stop()
        server.stop()


def test_the_ci_docs_name_every_secret_variable() -> None:
    from poetflow.masking import SECRET_VARIABLE_PREFIXES, SECRET_VARIABLES

    text = (Path(__file__).resolve().parents[2] / "docs" / "ci.md").read_text(encoding="utf-8")
    missing = [name for name in SECRET_VARIABLES if f"`{name}`" not in text]
    missing += [prefix for prefix in SECRET_VARIABLE_PREFIXES if f"`{prefix}" not in text]
    assert not missing, f"docs/ci.md 'What is masked' lacks {missing}"
