"""`poetflow init` carries over the release tool a repository already uses."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import CliResult, git

from poetflow.workspace import load_workspace

RunCli = Callable[..., CliResult]
A_INIT = (("src/pkg_a/__init__.py", "__version__"),)
B_INIT = ("src/pkg_b/__init__.py", "__version__")
MakeMonorepo = Callable[..., Path]


def _module(root: Path, relpath: str, module: str, version: str) -> None:
    folder = root / relpath / "src" / module
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text(f'__version__ = "{version}"\n')
    pyproject = root / relpath / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            "[tool.poetry.dependencies]",
            f'packages = [{{ include = "{module}", from = "src" }}]\n\n[tool.poetry.dependencies]',
        )
    )


def _two_packages(make_monorepo: MakeMonorepo, root_pyproject: str | None = None) -> Path:
    root = make_monorepo(
        [("packages/a", "pkg-a", "0.1.0"), ("packages/b", "pkg-b", "0.1.0")],
        root_pyproject=root_pyproject,
    )
    _module(root, "packages/a", "pkg_a", "0.1.0")
    _module(root, "packages/b", "pkg_b", "0.1.0")
    (root / "packages/b/VERSION").write_text("0.1.0\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "chore: version in the code")
    return root


def test_commitizen_version_files_are_carried_over_and_released(
    make_monorepo: MakeMonorepo, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _two_packages(
        make_monorepo,
        '[tool.commitizen]\nname = "cz_conventional_commits"\ntag_format = "v$version"\n'
        'version_files = ["packages/*/src/*/__init__.py:__version__", "packages/b/VERSION"]\n',
    )
    monkeypatch.setenv("POETFLOW_TOKEN", "pypi-adopt-test-token")
    # Before: doctor sees versions that a release would leave behind.
    findings = json.loads(run_cli("doctor", "--json", cwd=root).stdout)["findings"]
    stale = sorted(
        f["message"].split(" holds")[0] for f in findings if f["check"] == "version-files"
    )
    assert stale == ["packages/a/src/pkg_a/__init__.py", "packages/b/VERSION",
                     "packages/b/src/pkg_b/__init__.py"]  # fmt: skip

    result = run_cli("init", "--yes", cwd=root)
    assert result.exit_code == 0, result.stderr
    assert "release settings of commitizen: tag format v{version}, 3 version files" in (
        result.stdout
    )
    workspace = load_workspace(root)
    assert workspace.config.versioning == "synchronized"
    assert workspace.config.tag_format == "v{version}"
    files = {p.name: p.config.version_files for p in workspace.packages}
    assert files["pkg-a"] == (("src/pkg_a/__init__.py", "__version__"),)
    assert set(files["pkg-b"]) == {
        ("src/pkg_b/__init__.py", "__version__"),
        ("VERSION", "__version__"),
    }
    findings = json.loads(run_cli("doctor", "--json", cwd=root).stdout)["findings"]
    assert not [f for f in findings if f["check"] == "version-files"]

    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "chore: poetflow")
    (root / "packages/a/src/pkg_a/more.py").write_text("X = 1\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "feat(a): more")
    assert run_cli("version", "bump", "--commit", "--tag", cwd=root).exit_code == 0
    assert (root / "packages/b/VERSION").read_text() == "0.2.0\n"
    assert run_cli("build", "-p", "pkg-a", cwd=root).exit_code == 0
    [wheel] = (root / "packages/a/dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("pkg_a/__init__.py").decode() == '__version__ = "0.2.0"\n'


def test_semantic_release_per_package_settings(
    make_monorepo: MakeMonorepo, run_cli: RunCli
) -> None:
    root = _two_packages(make_monorepo)
    for relpath, name, module in (
        ("packages/a", "pkg-a", "pkg_a"),
        ("packages/b", "pkg-b", "pkg_b"),
    ):
        pyproject = root / relpath / "pyproject.toml"
        pyproject.write_text(
            pyproject.read_text()
            + f'\n[tool.semantic_release]\ntag_format = "{name}-v{{version}}"\n'
            f'version_variables = ["src/{module}/__init__.py:__version__"]\n'
            'version_toml = ["pyproject.toml:tool.poetry.version"]\n'
        )
    git(root, "commit", "-q", "-am", "chore: psr")
    result = run_cli("init", "--yes", "--json", cwd=root)
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["config"]["tag-format"] == "{name}-v{version}"
    assert payload["config"]["versioning"] == "independent"
    assert payload["adopted"]["tools"] == ["python-semantic-release"]
    workspace = load_workspace(root)
    assert workspace.by_name["pkg-b"].config.version_files == (
        ("src/pkg_b/__init__.py", "__version__"),
    )


def test_release_please_packages_components_and_extra_files(
    make_monorepo: MakeMonorepo, run_cli: RunCli
) -> None:
    root = _two_packages(make_monorepo)
    (root / "release-please-config.json").write_text(json.dumps({
        "release-type": "python",
        "packages": {
            "packages/a": {"package-name": "pkg-a", "extra-files": ["src/pkg_a/__init__.py"]},
            "packages/b": {"package-name": "pkg-b", "extra-files": [
                {"type": "generic", "path": "VERSION"}]},
        },
    }))  # fmt: skip
    (root / ".release-please-manifest.json").write_text(
        '{"packages/a": "0.1.0", "packages/b": "0.1.0"}'
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "chore: release-please")
    result = run_cli("init", "--yes", cwd=root)
    assert result.exit_code == 0, result.stderr
    workspace = load_workspace(root)
    assert workspace.config.tag_format == "{name}-v{version}"
    assert workspace.by_name["pkg-a"].config.version_files == (
        ("src/pkg_a/__init__.py", "__version__"),
    )
    assert workspace.by_name["pkg-b"].config.version_files == (("VERSION", "__version__"),)


def test_bump_my_version_and_what_cannot_be_carried_over(
    make_monorepo: MakeMonorepo, run_cli: RunCli
) -> None:
    root = _two_packages(make_monorepo)
    (root / ".bumpversion.toml").write_text(
        '[tool.bumpversion]\ncurrent_version = "0.1.0"\ntag_name = "release-{new_version}"\n\n'
        '[[tool.bumpversion.files]]\nfilename = "packages/a/src/pkg_a/__init__.py"\n\n'
        '[[tool.bumpversion.files]]\nfilename = "docs/conf.py"\n'
    )
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "chore: bump-my-version")
    result = run_cli("init", "--yes", cwd=root)
    assert result.exit_code == 0, result.stderr
    assert "note: bump-my-version: version file 'docs/conf.py' matches no file" in result.stdout
    workspace = load_workspace(root)
    assert workspace.config.tag_format == "release-{version}"
    assert workspace.by_name["pkg-a"].config.version_files == (
        ("src/pkg_a/__init__.py", "__version__"),
    )
