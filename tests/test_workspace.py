"""The workspace model on realistic monorepo shapes and on bad input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from poetflow.errors import (
    ConfigError,
    DuplicatePackageError,
    MetadataError,
    MissingPathDependencyError,
    UnknownPackageError,
    WorkspaceNotFoundError,
)
from poetflow.workspace import find_root, load_workspace

MakeWorkspace = Callable[..., Path]


def test_demo_has_both_styles_and_a_diamond(demo_repo: Path) -> None:
    workspace = load_workspace(demo_repo)
    assert [p.name for p in workspace.packages] == [
        "acme-app",
        "acme-core",
        "acme-http",
        "acme-storage",
    ]
    app = workspace.get("acme_app")
    assert app.runtime_dependencies == ("acme-http", "acme-storage")
    assert workspace.get("acme-http").display_name == "acme_http"
    assert {p.name: p.style for p in workspace.packages} == {
        "acme-app": "poetry",
        "acme-core": "pep621",
        "acme-http": "poetry",
        "acme-storage": "pep621",
    }
    assert workspace.get("acme-storage").version == "2.0.3"


def test_realistic_shapes(fixture_workspace: MakeWorkspace) -> None:
    workspace = load_workspace(fixture_workspace("shapes"))
    by_path = {p.relpath: p.name for p in workspace.packages}
    # Empty files, tool-only files, package-mode = false, folders without pyproject.toml,
    # excluded globs and projects outside the member globs are all left out.
    assert by_path == {
        "libs/jwt": "jwt-vc-json",
        "packages/cli": "acme-cli",
        "packages/fixtures": "fixtures",
        "packages/http/httpx": "acme-httpx",
        "packages/reports": "reports",
    }
    httpx = workspace.get("ACME.httpx")
    assert httpx.display_name == "Acme.HTTPX"
    assert httpx.runtime_dependencies == ("jwt-vc-json",)

    cli = workspace.get("acme-cli")
    edges = {dep.name: dep for dep in cli.dependencies}
    # Declared twice (version in main, path in a group): a runtime edge.
    assert edges["acme-httpx"].kind == "runtime"
    assert set(edges["acme-httpx"].groups) == {"main", "test"}
    # Behind an extra: runtime, remembered with its extra.
    assert edges["reports"].kind == "runtime"
    assert edges["reports"].extras == ("pdf",)
    # Legacy dev-dependencies: development only.
    assert edges["fixtures"].kind == "dev"

    fixtures = workspace.get("fixtures")
    assert fixtures.dynamic_version
    assert fixtures.runtime_dependencies == ("acme-httpx",)
    assert workspace.get("reports").dynamic_version
    assert not httpx.dynamic_version


def test_dev_group_cycles_do_not_block_ordering(fixture_workspace: MakeWorkspace) -> None:
    workspace = load_workspace(fixture_workspace("devcycle"))
    assert workspace.graph.order() == ["lib", "testkit"]
    assert workspace.graph.cycles() == []
    assert workspace.graph.cycles(("runtime", "dev")) == [["lib", "testkit"]]


def test_root_found_by_walking_up(demo_repo: Path) -> None:
    nested = demo_repo / "packages" / "core" / "src"
    assert find_root(nested) == demo_repo.resolve()


def test_root_falls_back_to_git_top_level(fixture_workspace: MakeWorkspace) -> None:
    repo = fixture_workspace("single")
    (repo / "pyproject.toml").write_text("")  # no [tool.poetflow] anywhere
    assert find_root(repo / "packages" / "solo") == repo.resolve()


def test_no_root_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceNotFoundError, match="--root"):
        find_root(tmp_path)


def test_malformed_toml_names_the_file(fixture_workspace: MakeWorkspace) -> None:
    root = fixture_workspace("broken")
    with pytest.raises(MetadataError, match=r"packages/bad/pyproject\.toml is not valid TOML"):
        load_workspace(root)


def test_duplicate_names_name_both_paths(fixture_workspace: MakeWorkspace) -> None:
    with pytest.raises(DuplicatePackageError) as info:
        load_workspace(fixture_workspace("duplicate"))
    assert "packages/one" in info.value.message
    assert "packages/two" in info.value.message


def test_missing_path_dependency_names_the_file(fixture_workspace: MakeWorkspace) -> None:
    with pytest.raises(MissingPathDependencyError) as info:
        load_workspace(fixture_workspace("missingpath"))
    assert "packages/a/pyproject.toml" in info.value.message
    assert "'ghost'" in info.value.message


def test_invalid_setting_names_file_and_key(fixture_workspace: MakeWorkspace) -> None:
    with pytest.raises(ConfigError, match=r"tool\.poetflow\.versioning is 'lockstep'"):
        load_workspace(fixture_workspace("badconfig"))


def test_unknown_package_suggests_close_name(demo_repo: Path) -> None:
    workspace = load_workspace(demo_repo)
    with pytest.raises(UnknownPackageError, match="did you mean 'acme-storage'"):
        workspace.get("acme-storag")


def _write_package(folder: Path, name: str, extra: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(
        f'[tool.poetry]\nname = "{name}"\nversion = "0.1.0"\n{extra}', encoding="utf-8"
    )


def test_a_package_inside_a_member_folder_is_no_member(tmp_path: Path) -> None:
    # langchain's layout: project templates with placeholder names inside the CLI package.
    root = tmp_path / "mono"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.poetflow]\npackages = ["libs/**"]\n')
    _write_package(root / "libs" / "cli", "acme-cli")
    for template in ("integration_template", "package_template"):
        _write_package(root / "libs" / "cli" / "acme_cli" / template, "__package_name__")
    _write_package(root / "libs" / "core", "acme-core")
    workspace = load_workspace(root)
    assert [p.relpath for p in workspace.packages] == ["libs/cli", "libs/core"]

    # A glob naming the folder exactly makes it a member after all.
    (root / "pyproject.toml").write_text(
        '[tool.poetflow]\npackages = ["libs/*", "libs/cli/acme_cli/integration_template"]\n'
    )
    with pytest.raises(MetadataError, match="'__package_name__' is invalid"):
        load_workspace(root)


def test_a_folder_that_is_not_a_package_does_not_hide_packages_inside_it(
    tmp_path: Path,
) -> None:
    root = tmp_path / "mono"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.poetflow]\npackages = ["tools/**"]\n')
    (root / "tools").mkdir()
    (root / "tools" / "pyproject.toml").write_text("[tool.black]\nline-length = 100\n")
    _write_package(root / "tools" / "lint", "acme-lint")
    assert [p.name for p in load_workspace(root).packages] == ["acme-lint"]


def test_a_self_dependency_is_kept_as_an_edge(fixture_workspace: MakeWorkspace) -> None:
    root = fixture_workspace("chain")
    pyproject = root / "packages" / "a" / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'python = ">=3.10"\n', 'python = ">=3.10"\nchain-a = { path = "." }\n'
        )
    )
    workspace = load_workspace(root)
    assert workspace.get("chain-a").runtime_dependencies == ("chain-a",)
    assert workspace.graph.cycles() == [["chain-a"]]


def test_a_package_naming_itself_in_an_extra_is_no_dependency(tmp_path: Path) -> None:
    # all = ["acme[a,b]"] pulls in the package's other extras: common, and no cycle.
    root = tmp_path / "mono"
    (root / "packages" / "acme").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[tool.poetflow]\n")
    (root / "packages" / "acme" / "pyproject.toml").write_text(
        '[project]\nname = "acme"\nversion = "1.0.0"\ndependencies = []\n'
        '[project.optional-dependencies]\nfast = ["orjson"]\nall = ["acme[fast]"]\n'
    )
    workspace = load_workspace(root)
    assert workspace.get("acme").dependencies == ()
    assert workspace.graph.cycles() == []
