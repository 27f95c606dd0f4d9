"""`poetflow init` writes [tool.poetflow] with tomlkit, keeps the rest, never overwrites."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import CliResult

from poetflow.tomlfile import read_toml
from poetflow.workspace import load_workspace

ROOT_PYPROJECT = """# The monorepo's own tooling.
[tool.black]
line-length = 100   # keep in sync with ruff

[tool.ruff]
target-version = "py310"
"""


def test_yes_creates_a_root_pyproject_that_poetflow_reads(
    make_monorepo: Callable[..., Path], run_cli: Callable[..., CliResult]
) -> None:
    root = make_monorepo(
        [("packages/a", "pkg-a", "1.0.0"), ("packages/b", "pkg-b", "0.3.0", "pep621")],
        tags=("pkg-a@1.0.0", "pkg-b@0.3.0"),
    )
    result = run_cli("init", "--yes", cwd=root)
    assert result.exit_code == 0, result.stderr
    assert "2 of 2 git tags follow {name}@{version}" in result.stdout
    workspace = load_workspace(root)
    assert workspace.config.versioning == "independent"
    assert workspace.config.tag_format == "{name}@{version}"
    assert [package.name for package in workspace.packages] == ["pkg-a", "pkg-b"]
    discovered = run_cli("discover", "--json", cwd=root)
    assert discovered.exit_code == 0
    assert '"pkg-b"' in discovered.stdout


def test_existing_root_pyproject_is_kept_byte_for_byte(
    make_monorepo: Callable[..., Path], run_cli: Callable[..., CliResult]
) -> None:
    root = make_monorepo([("packages/a", "pkg-a", "1.0.0")], root_pyproject=ROOT_PYPROJECT)
    result = run_cli("init", "--yes", cwd=root)
    assert result.exit_code == 0, result.stderr
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    assert text.startswith(ROOT_PYPROJECT)
    assert "[tool.poetflow]" in text
    assert read_toml(root / "pyproject.toml")["tool"]["black"]["line-length"] == 100


def test_existing_config_is_kept_unless_forced_and_force_keeps_other_sections(
    make_monorepo: Callable[..., Path], run_cli: Callable[..., CliResult]
) -> None:
    existing = (
        '[tool.poetflow]\npackages = ["old/*"]\nversioning = "independent"\n\n'
        '[tool.poetflow.test]\ncommands = ["pytest -x", "mypy ."]  # both\n'
    )
    root = make_monorepo(
        [("packages/a", "pkg-a", "1.0.0"), ("packages/b", "pkg-b", "1.0.0")],
        root_pyproject=existing,
        tags=("v1.0.0",),
    )
    kept = run_cli("init", "--yes", cwd=root)
    assert kept.exit_code == 0, kept.stderr
    assert "Kept pyproject.toml as it is (it exists; --force replaces it)" in kept.stdout
    assert (root / "pyproject.toml").read_text(encoding="utf-8") == existing

    forced = run_cli("init", "--yes", "--force", cwd=root)
    assert forced.exit_code == 0, forced.stderr
    table = read_toml(root / "pyproject.toml")["tool"]["poetflow"]
    assert table["packages"] == ["packages/*"]
    assert table["versioning"] == "synchronized"
    assert table["tag-format"] == "v{version}"
    assert table["test"]["commands"] == ["pytest -x", "mypy ."]
    assert "# both" in (root / "pyproject.toml").read_text(encoding="utf-8")


def test_dry_run_writes_nothing(
    make_monorepo: Callable[..., Path], run_cli: Callable[..., CliResult]
) -> None:
    root = make_monorepo([("packages/a", "pkg-a", "1.0.0")])
    result = run_cli("init", "--yes", "--dry-run", "--json", cwd=root)
    assert result.exit_code == 0, result.stderr
    assert '"tag-format": "{name}-v{version}"' in result.stdout
    assert not (root / "pyproject.toml").exists()


def test_unknown_ci_is_bad_usage(
    make_monorepo: Callable[..., Path], run_cli: Callable[..., CliResult]
) -> None:
    root = make_monorepo([("packages/a", "pkg-a", "1.0.0")])
    result = run_cli("init", "--yes", "--ci", "travis", cwd=root)
    assert result.exit_code == 2
    assert "github, gitlab, jenkins" in result.stderr
    assert not (root / "pyproject.toml").exists()


def test_project_templates_inside_a_package_do_not_become_members(
    make_monorepo: Callable[..., Path], run_cli: Callable[..., CliResult]
) -> None:
    # The shape of langchain's repository: the CLI package ships cookiecutter-style project
    # templates whose names are placeholders (two of them the same one).
    templates = "libs/cli/acme_cli"
    root = make_monorepo(
        [
            ("libs/core", "acme-core", "0.3.10"),
            ("libs/cli", "acme-cli", "0.0.30"),
            ("libs/partners/openai", "acme-openai", "0.2.2"),
            (f"{templates}/integration_template", "__package_name__", "0.1.0"),
            (f"{templates}/package_template", "__package_name__", "0.0.1"),
            (f"{templates}/project_template", "__app_name__", "0.1.0"),
        ]
    )
    result = run_cli("init", "--yes", cwd=root)
    assert result.exit_code == 0, result.stderr
    assert (
        f"not a member: {templates}/integration_template ('__package_name__', inside the "
        "package acme-cli)" in result.stdout
    )
    for command in (["discover", "--json"], ["graph"], ["build", "--dry-run"]):
        listed = run_cli(*command, cwd=root)
        assert listed.exit_code == 0, listed.stderr
    names = [package.name for package in load_workspace(root).packages]
    assert names == ["acme-cli", "acme-core", "acme-openai"]
