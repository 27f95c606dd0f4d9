"""`poetflow doctor` finds what breaks a monorepo release, says how to fix it, exits 1."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import CliResult, git, init_repo


def _findings(result: CliResult) -> dict[str, list[dict[str, str]]]:
    payload = json.loads(result.stdout)
    found: dict[str, list[dict[str, str]]] = {}
    for finding in payload["findings"]:
        found.setdefault(finding["check"], []).append(finding)
    return found


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POETFLOW_TOKEN", "pypi-doctor-test-token")


@pytest.mark.usefixtures("token")
def test_a_healthy_repository_passes(demo_repo: Path, run_cli: Callable[..., CliResult]) -> None:
    result = run_cli("doctor", cwd=demo_repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert "all 11 checks passed" in result.stdout
    payload = json.loads(run_cli("doctor", "--json", cwd=demo_repo).stdout)
    assert payload["ok"] is True
    assert payload["findings"] == []
    assert "pypi-doctor-test-token" not in result.stdout


def test_missing_credentials_block_and_name_the_variables(
    demo_repo: Path, run_cli: Callable[..., CliResult]
) -> None:
    result = run_cli("doctor", "--json", cwd=demo_repo)
    assert result.exit_code == 1
    found = _findings(result)
    assert list(found) == ["credentials"]
    assert "POETFLOW_REPOSITORY_PYPI_TOKEN" in found["credentials"][0]["message"]
    assert "_FILE" in found["credentials"][0]["fix"]


@pytest.mark.usefixtures("token")
def test_shallow_clone_blocks(
    demo_repo: Path, tmp_path: Path, run_cli: Callable[..., CliResult]
) -> None:
    git(demo_repo, "commit", "-q", "--allow-empty", "-m", "fix: second")
    clone = tmp_path / "shallow"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{demo_repo}", str(clone))
    result = run_cli("doctor", "--json", cwd=clone)
    assert result.exit_code == 1
    [finding] = _findings(result)["git-history"]
    assert "shallow clone" in finding["message"]
    assert "fetch-depth: 0" in finding["fix"]


@pytest.mark.usefixtures("token")
def test_tags_in_another_format_block_and_suggest_the_format(
    demo_repo: Path, run_cli: Callable[..., CliResult]
) -> None:
    for tag in ("acme-core@1.2.0", "acme_http@0.4.1", "acme-app@0.9.0", "acme-core-v1.1.0"):
        git(demo_repo, "tag", tag)
    result = run_cli("doctor", "--json", cwd=demo_repo)
    assert result.exit_code == 1
    [finding] = _findings(result)["tags"]
    assert finding["severity"] == "blocker"
    assert "acme-core@1.2.0" in finding["message"]
    assert "acme-core-v1.1.0" not in finding["message"]
    assert 'tag-format = "{name}@{version}"' in finding["fix"]


@pytest.mark.usefixtures("token")
def test_a_stray_version_tag_is_only_a_warning(
    demo_repo: Path, run_cli: Callable[..., CliResult]
) -> None:
    git(demo_repo, "tag", "acme-core-v1.2.0")
    git(demo_repo, "tag", "docs-2.0")
    result = run_cli("doctor", "--json", cwd=demo_repo)
    assert result.exit_code == 0
    [finding] = _findings(result)["tags"]
    assert finding["severity"] == "warning"
    assert "docs-2.0" in finding["message"]


@pytest.mark.usefixtures("token")
def test_dirty_tree_blocks(demo_repo: Path, run_cli: Callable[..., CliResult]) -> None:
    readme = demo_repo / "packages" / "core" / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + "\nmore\n", encoding="utf-8")
    result = run_cli("doctor", "--json", cwd=demo_repo)
    assert result.exit_code == 1
    [finding] = _findings(result)["working-tree"]
    assert finding["severity"] == "blocker"
    assert "packages/core/README.md" in finding["message"]


@pytest.mark.usefixtures("token")
def test_untracked_files_are_a_warning(demo_repo: Path, run_cli: Callable[..., CliResult]) -> None:
    (demo_repo / "packages" / "core" / "notes.txt").write_text("draft\n", encoding="utf-8")
    result = run_cli("doctor", "--json", cwd=demo_repo)
    assert result.exit_code == 0
    [finding] = _findings(result)["working-tree"]
    assert finding["severity"] == "warning"
    assert "packages/core/notes.txt" in finding["message"]
    assert ".gitignore" in finding["fix"]


@pytest.mark.usefixtures("token")
def test_every_missing_path_dependency_is_listed(
    demo_repo: Path, run_cli: Callable[..., CliResult]
) -> None:
    shutil.rmtree(demo_repo / "packages" / "core")
    git(demo_repo, "add", "-A")
    git(demo_repo, "commit", "-q", "-m", "refactor: drop core")
    result = run_cli("doctor", "--json", cwd=demo_repo)
    assert result.exit_code == 1
    found = _findings(result)["path-dependencies"]
    assert sorted(finding["package"] for finding in found) == ["acme-storage", "acme_http"]
    assert all("'../core'" in finding["message"] for finding in found)


@pytest.mark.usefixtures("token")
def test_runtime_cycle_blocks(
    fixture_workspace: Callable[..., Path], run_cli: Callable[..., CliResult]
) -> None:
    root = fixture_workspace("cycle")
    result = run_cli("doctor", "--json", cwd=root)
    assert result.exit_code == 1
    [finding] = _findings(result)["cycles"]
    assert "depend on each other" in finding["message"]
    assert "dependency group" in finding["fix"]


@pytest.mark.usefixtures("token")
def test_invalid_config_is_a_finding_not_a_crash(
    demo_repo: Path, run_cli: Callable[..., CliResult]
) -> None:
    pyproject = demo_repo / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8").replace('"independent"', '"linked"'),
        encoding="utf-8",
    )
    git(demo_repo, "commit", "-q", "-am", "chore: break config")
    result = run_cli("doctor", cwd=demo_repo)
    # Listed as a finding (with the rest of the checks), and bad input like everywhere else.
    assert result.exit_code == 2
    assert "versioning" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.usefixtures("token")
def test_old_poetry_blocks(
    demo_repo: Path,
    tmp_path: Path,
    run_cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "poetry"
    fake.write_text("#!/bin/sh\necho 'Poetry (version 1.8.3)'\n", encoding="utf-8")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    result = run_cli("doctor", "--json", cwd=demo_repo)
    assert result.exit_code == 1
    [finding] = _findings(result)["poetry"]
    assert "1.8.3" in finding["message"]
    assert "too old" in finding["message"]


def test_not_a_git_repository(
    fixture_workspace: Callable[..., Path], run_cli: Callable[..., CliResult]
) -> None:
    root = fixture_workspace("single", with_git=False)
    result = run_cli("doctor", "--json", cwd=root)
    assert result.exit_code == 1
    assert "not inside a git repository" in _findings(result)["git-history"][0]["message"]


_LOCKABLE = """[project]
name = "lockable"
version = "0.1.0"
requires-python = ">=3.10"
dependencies = []

[tool.poetry]
packages = [{ include = "lockable" }]

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""


def _poetry_check_lock(folder: Path) -> bool:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    completed = subprocess.run(
        [shutil.which("poetry") or "poetry", "check", "--lock", "--no-ansi"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    return completed.returncode == 0


@pytest.mark.slow
@pytest.mark.usefixtures("token")
def test_stale_lock_detected_exactly_as_poetry_does(
    tmp_path: Path, run_cli: Callable[..., CliResult], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    root = tmp_path / "mono"
    package = root / "packages" / "lockable"
    (package / "lockable").mkdir(parents=True)
    (package / "lockable" / "__init__.py").write_text("", encoding="utf-8")
    (package / "pyproject.toml").write_text(_LOCKABLE, encoding="utf-8")
    (root / "pyproject.toml").write_text('[tool.poetflow]\npackages = ["packages/*"]\n')
    subprocess.run(
        ["poetry", "lock", "--no-ansi"],
        cwd=package,
        check=True,
        capture_output=True,
        env={k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"},
    )
    init_repo(root)
    assert _poetry_check_lock(package)
    fresh = run_cli("doctor", "--json", cwd=root)
    assert fresh.exit_code == 0, fresh.stdout
    assert "lock-files" not in _findings(fresh)

    edits = [
        ('requires-python = ">=3.10"', 'requires-python = ">=3.11"'),
        ("dependencies = []", 'dependencies = []\n\n[dependency-groups]\ndev = ["pytest>=8"]'),
    ]
    for old, new in edits:
        pyproject = package / "pyproject.toml"
        pyproject.write_text(_LOCKABLE.replace(old, new), encoding="utf-8")
        git(root, "commit", "-q", "-am", "build: change requirements")
        assert not _poetry_check_lock(package)
        stale = run_cli("doctor", "--json", cwd=root)
        assert stale.exit_code == 1
        [finding] = _findings(stale)["lock-files"]
        assert finding["package"] == "lockable"
        assert "packages/lockable/poetry.lock is out of date" in finding["message"]
        assert "poetry lock" in finding["fix"]

    # A change Poetry does not hash (the description) keeps the lock fresh for both.
    (package / "pyproject.toml").write_text(
        _LOCKABLE.replace('version = "0.1.0"', 'version = "0.1.0"\ndescription = "x"'),
        encoding="utf-8",
    )
    git(root, "commit", "-q", "-am", "docs: describe")
    assert _poetry_check_lock(package)
    assert "lock-files" not in _findings(run_cli("doctor", "--json", cwd=root))


@pytest.mark.usefixtures("token")
def test_versions_in_package_code_that_a_release_would_miss(
    demo_repo: Path, run_cli: Callable[..., CliResult]
) -> None:
    init = demo_repo / "packages/core/src/acme_core/__init__.py"
    init.write_text(init.read_text(encoding="utf-8") + '\n__version__ = "1.2.0"\n')
    (demo_repo / "packages/http/VERSION").write_text("0.4.1\n", encoding="utf-8")
    git(demo_repo, "add", "-A")
    git(demo_repo, "commit", "-q", "-m", "feat(core): say the version")
    result = run_cli("doctor", "--json", cwd=demo_repo)
    assert result.exit_code == 0  # warnings only
    found = {f["package"]: f for f in _findings(result)["version-files"]}
    assert (
        "packages/core/src/acme_core/__init__.py holds the version '1.2.0'"
        in (found["acme-core"]["message"])
    )
    assert 'version-files = ["src/acme_core/__init__.py"]' in found["acme-core"]["fix"]
    assert 'version-files = ["VERSION"]' in found["acme-http"]["fix"]

    # Listed, they are released with the package and doctor is satisfied.
    for folder, listed in (("core", "src/acme_core/__init__.py"), ("http", "VERSION")):
        pyproject = demo_repo / "packages" / folder / "pyproject.toml"
        pyproject.write_text(
            pyproject.read_text(encoding="utf-8")
            + f'\n[tool.poetflow]\nversion-files = ["{listed}"]\n',
            encoding="utf-8",
        )
    git(demo_repo, "commit", "-q", "-am", "fix(http): manage the version files")
    assert "version-files" not in _findings(run_cli("doctor", "--json", cwd=demo_repo))
    bump = run_cli("version", "bump", "--commit", cwd=demo_repo)
    assert bump.exit_code == 0, bump.stderr
    assert '__version__ = "1.3.0"' in init.read_text(encoding="utf-8")
    assert (demo_repo / "packages/http/VERSION").read_text(
        encoding="utf-8"
    ) == "0.5.0\n"  # the feat commit added it
