"""Configuration is validated when the workspace loads: every command refuses a bad key."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import CliResult, git

from poetflow.config import parse_config
from poetflow.errors import ConfigError

# Every command reads the workspace first, so each refuses a bad table before doing anything.
COMMANDS: tuple[tuple[str, ...], ...] = (
    ("discover",),
    ("graph",),
    ("plan",),
    ("test", "--dry-run"),
    ("build", "--dry-run"),
    ("version", "bump", "--dry-run"),
    ("changelog", "--dry-run"),
    ("publish", "--dry-run", "--repository-url", "http://127.0.0.1:9/"),
    ("run", "--dry-run"),
    ("release-pr", "--dry-run"),
    ("doctor",),
)

# (what is written into the root pyproject, the key the error names, the suggestion)
MISSPELT = (
    ('pakages = ["packages/*"]\n', "pakages", "packages"),
    ("[tool.poetflow.pipeline]\nstagez = ['test']\n", "stagez", "stages"),
    ("[tool.poetflow.test]\ncomands = ['pytest']\n", "comands", "commands"),
    ("[tool.poetflow.version]\nbump-rule = {feat = 'minor'}\n", "bump-rule", "bump-rules"),
    ("[tool.poetflow.changelog]\nformat = ['json']\n", "format", "formats"),
    ("[tool.poetflow.publish]\nrepositroy = 'x'\n", "repositroy", "repository"),
    ("[tool.poetflow.signing]\nstagin = true\n", "stagin", "staging"),
    ("[tool.poetflow.hooks]\npre-bulid = 'true'\n", "pre-bulid", "pre-build"),
    ("[tool.poetflow.repositories.internal]\nurl = 'https://x/'\nindex_url = 'y'\n", "index_url",
     "index-url"),
)  # fmt: skip


def _with_table(repo: Path, text: str) -> None:
    pyproject = repo / "pyproject.toml"
    content = pyproject.read_text(encoding="utf-8")
    header, _, keys = (
        text.partition("\n") if text.startswith("[") else ("[tool.poetflow]", "", text)
    )
    if header + "\n" in content:  # the table exists: the keys go right under its header
        content = content.replace(header + "\n", header + "\n" + keys, 1)
    else:
        content += "\n" + text
    pyproject.write_text(content, encoding="utf-8")
    git(repo, "commit", "-qam", "chore: configure")


def _tree(repo: Path) -> str:
    return git(repo, "status", "--porcelain", "--ignored")


@pytest.mark.parametrize(("text", "key", "suggestion"), MISSPELT, ids=[m[1] for m in MISSPELT])
@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_a_misspelt_key_is_exit_2_from_every_command(
    demo_repo: Path,
    run_cli: Callable[..., CliResult],
    command: tuple[str, ...],
    text: str,
    key: str,
    suggestion: str,
) -> None:
    _with_table(demo_repo, text)
    before = _tree(demo_repo)
    result = run_cli(*command, "--json", cwd=demo_repo) if command == ("doctor",) else None
    if result is not None:  # doctor lists the problem as a finding, then exits 2 like the rest
        assert result.exit_code == 2, result.stdout
        [finding] = [f for f in json.loads(result.stdout)["findings"] if f["check"] == "config"]
        output = f"{finding['message']} {finding['fix']}"
    else:
        result = run_cli(*command, cwd=demo_repo)
        assert result.exit_code == 2, result.stderr
        output = result.stderr
    assert str(demo_repo / "pyproject.toml") in output
    assert key in output
    assert f"`{suggestion}`" in output
    assert "Traceback" not in result.stderr
    assert _tree(demo_repo) == before


def test_a_workspace_key_in_a_package_says_where_it_belongs(
    demo_repo: Path, run_cli: Callable[..., CliResult]
) -> None:
    pyproject = demo_repo / "packages" / "core" / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8") + '\n[tool.poetflow]\nversioning = "synchronized"\n',
        encoding="utf-8",
    )
    result = run_cli("discover", cwd=demo_repo)
    assert result.exit_code == 2
    assert str(pyproject) in result.stderr
    assert "monorepo root" in result.stderr


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"tag-format": "{name} ..v{version}~^:"}, "does not make a valid git tag name"),
        ({"tag-format": "{name}-{sha}-{version}"}, "uses {sha}"),
        ({"tag-format": "{name}-v{version"}, "is not a valid format"),
        ({"tag-format": "v{version}"}, "has no {name}"),
        ({"tag-format": "{name}"}, "containing {version}"),
        ({"versioning": "sync"}, 'Did you mean "synchronized"?'),
        ({"test": {"timeout": 0}}, "tool.poetflow.test.timeout must be a positive number"),
        ({"pipeline": {"stages": ["tset"]}}, "Did you mean 'test'?"),
        ({"publish": {"sign": "yes"}}, "tool.poetflow.publish.sign must be true or false"),
        ({"repositories": {"internal": {}}}, "tool.poetflow.repositories.internal.url"),
        ({"test": 5}, "[tool.poetflow.test] must be a table"),
    ],
)
def test_bad_values_name_the_file_and_the_key(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(table, Path("/repo/pyproject.toml"))
    assert message in str(caught.value)
    assert "/repo/pyproject.toml" in str(caught.value)
    assert caught.value.exit_code == 2


def test_sections_are_typed_after_load() -> None:
    config = parse_config(
        {
            "shared-paths": ["common/"],
            "test": {"commands": ["pytest -q"], "env": "current"},
            "publish": {"repository": "internal", "sign": True},
            "repositories": {"internal": {"url": "https://pkgs.example/legacy/"}},
            "pipeline": {"skip": ["publish"]},
        },
        None,
    )
    assert config.test.commands == (("pytest", "-q"),)
    assert config.test.env == "current"
    assert config.publish.repository == "internal"
    assert config.publish.sign
    assert config.repositories["internal"].index_url == "https://pkgs.example/simple/"
    assert config.pipeline.skip == ("publish",)
    assert config.version.shared_paths == ("common",)
