"""Secrets stay hidden in every command: a canary planted in every credential variable, in
the file of every ``*_FILE`` variant and in a URL's userinfo appears in no output, not even
from a failing hook that was handed the credentials, at every log level and format."""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import CliResult, git

from poetflow.masking import (
    SECRET_VARIABLES,
    mask,
    register_process_secrets,
    register_secret,
)

# The per-repository variables, for the repositories the commands below use ('url' is
# the repository --repository-url names), and credentials only a hook is handed.
PER_REPOSITORY = (
    "POETFLOW_REPOSITORY_URL_TOKEN",
    "POETFLOW_REPOSITORY_URL_USERNAME",
    "POETFLOW_REPOSITORY_URL_PASSWORD",
    "POETFLOW_REPOSITORY_PYPI_TOKEN",
    "POETRY_PYPI_TOKEN_PYPI",
    "POETRY_HTTP_BASIC_PYPI_USERNAME",
    "POETRY_HTTP_BASIC_PYPI_PASSWORD",
)
HOOK_ONLY = ("TWINE_PASSWORD", "DEPLOY_API_KEY")
CREDENTIALS = (*SECRET_VARIABLES, *PER_REPOSITORY, *HOOK_ONLY)

COMMANDS = {
    "build": ["build"],
    "test": ["test"],
    "version": ["version", "bump"],
    "publish": ["publish", "--repository-url", "{url}"],
    "run": ["run", "--repository-url", "{url}"],
}
LEVELS = ("debug", "info", "warning", "error")
FORMATS = ("text", "json")


def _canary(label: str) -> str:
    return f"canary{label}{uuid.uuid4().hex[:10]}"


@pytest.fixture
def planted(
    demo_repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, dict[str, str]]:
    """The demo with a pending release, every credential set to its own canary (and its
    *_FILE to a file holding another), and a failing hook before every stage that prints
    its whole environment and those files."""
    canaries: dict[str, str] = {}
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for index, name in enumerate(CREDENTIALS):
        canaries[name] = _canary(f"{index:02d}v")
        monkeypatch.setenv(name, canaries[name])
        held = secrets / name.lower()
        canaries[f"{name}_FILE"] = _canary(f"{index:02d}f")
        held.write_text(canaries[f"{name}_FILE"] + "\n", encoding="utf-8")
        monkeypatch.setenv(f"{name}_FILE", str(held))
    canaries["url"] = _canary("url")
    canaries["service-url"] = _canary("svc")
    canaries["otel"] = _canary("otel")
    # Not credentials by name: hooks see them unless PoetFlow finds the secret inside.
    monkeypatch.setenv("ACME_SERVICE_URL", f"https://bot:{canaries['service-url']}@svc.invalid/")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", f"x-team=acme,api-key={canaries['otel']}")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    # As in every GitHub job: with GITHUB_TOKEN set, run announces on this repository.
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/demo")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))

    pass_env = json.dumps([*CREDENTIALS, *(f"{name}_FILE" for name in CREDENTIALS)])
    script = f"env; cat {secrets}/*; exit 3"
    hooks = "".join(
        f"{key} = [{{run = {json.dumps(script)}, pass-env = {pass_env}}}]\n"
        for key in ("pre-test", "pre-build", "pre-version", "pre-publish")
    )
    root = demo_repo / "pyproject.toml"
    root.write_text(root.read_text() + "\n[tool.poetflow.hooks]\n" + hooks)
    readme = demo_repo / "packages" / "core" / "README.md"
    readme.write_text(readme.read_text() + "\nMore.\n")
    git(demo_repo, "commit", "-q", "-am", "fix(core): hooks that print everything")
    return demo_repo, canaries


def _everything_written(root: Path, tmp_path: Path) -> str:
    texts = [
        path.read_text(errors="replace")
        for path in (root / ".poetflow").rglob("*")
        if path.is_file()
    ]
    texts += [
        (tmp_path / name).read_text(errors="replace")
        for name in ("summary.md", "output")
        if (tmp_path / name).exists()
    ]
    return "\n".join(texts)


@pytest.mark.parametrize(
    ("command", "level", "fmt"), list(itertools.product(COMMANDS, LEVELS, FORMATS))
)
def test_no_canary_in_any_output(
    command: str,
    level: str,
    fmt: str,
    planted: tuple[Path, dict[str, str]],
    tmp_path: Path,
    run_cli: Callable[..., CliResult],
) -> None:
    root, canaries = planted
    url = f"http://alice:{canaries['url']}@127.0.0.1:9/legacy/"
    args = [arg.format(url=url) for arg in COMMANDS[command]]
    result = run_cli(*args, "--log-level", level, "--log-format", fmt, cwd=root)

    assert result.exit_code == 1, result.stderr  # the hook failed
    # ::add-mask:: lines are GitHub's protocol for masking: the runner never shows them.
    # They go to stderr (runners read workflow commands from both streams).
    shown = "\n".join(
        line
        for line in [*result.stdout.splitlines(), *result.stderr.splitlines()]
        if not line.startswith("::add-mask::")
    )
    output = "\n".join([shown, _everything_written(root, tmp_path)])
    leaked = sorted(name for name, canary in canaries.items() if canary in output)
    assert leaked == [], f"`poetflow {command}` at {level}/{fmt} shows {leaked}"
    if level in ("debug", "info", "warning", "error"):
        assert "exit code 3" in output  # the hook ran and its failure was reported


def test_a_url_with_userinfo_is_printed_with_its_password_masked(
    demo_repo: Path, run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POETFLOW_REPOSITORY_URL_TOKEN", "pypi-not-a-real-token")
    password = _canary("pw")
    url = f"http://alice:{password}@127.0.0.1:9/legacy/"
    result = run_cli("publish", "--dry-run", "--no-build", "--repository-url", url, cwd=demo_repo)
    assert result.exit_code == 0, result.stderr
    assert "http://alice:***@127.0.0.1:9/legacy/" in result.stdout
    assert password not in result.stdout + result.stderr


def test_mask_hides_url_passwords_nobody_registered() -> None:
    text = "push to https://m-bot:ghp_abc@github.com/example-org/m.git failed; see http://x/"
    assert (
        mask(text) == "push to https://m-bot:***@github.com/example-org/m.git failed; see http://x/"
    )
    assert mask("git@github.com:example-org/m.git") == "git@github.com:example-org/m.git"


def test_secrets_are_masked_inside_json_and_reprs() -> None:
    secret = 'tok"en\\' + uuid.uuid4().hex[:8]
    register_secret(secret)
    for shown in (json.dumps({"detail": secret}), repr(secret), secret):
        assert secret.strip('"\\') not in mask(shown).replace("***", "")


def test_the_cli_entry_registers_urls_headers_and_files(tmp_path: Path) -> None:
    held = tmp_path / "token"
    held.write_text("from-a-file-" + uuid.uuid4().hex[:8] + "\n")
    env = {
        "POETFLOW_TOKEN_FILE": str(held),
        "OTEL_EXPORTER_OTLP_HEADERS": "x-team=acme,Authorization=Bearer%20abcdef123",
        "DATABASE_URL": "postgres://app:db-pass-1@db/app",
        "POETFLOW_REPOSITORY_URL": "https://pkgs.example.com/legacy/",  # no secret in it
    }
    found = register_process_secrets(["--repository-url", "https://u:cli-pass-1@h/"], env)
    assert set(found) == {
        held.read_text().strip(),
        "Bearer abcdef123",
        "db-pass-1",
        "cli-pass-1",
    }


def test_masking_a_long_log_stays_linear() -> None:
    # A build log with a long base64 blob and many URLs: each word starts at most one scan.
    blob = "QUJD" * 50_000 + "://x@ " + "see https://u:p4ss@h.invalid/ " * 2_000
    started = time.perf_counter()
    masked = mask(blob)
    assert time.perf_counter() - started < 2
    assert "p4ss" not in masked
