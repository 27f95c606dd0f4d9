"""`poetflow build` on the demo monorepo and a real-shaped one, as a user runs it."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from build_helpers import (
    dist_files,
    git_status,
    requires_dist,
    sdist_member,
    sdist_of,
    wheel_metadata,
    wheel_of,
)

DEMO_PACKAGES = {
    "core": ("acme_core-1.2.0.tar.gz", "acme_core-1.2.0-py3-none-any.whl"),
    "http": ("acme_http-0.4.1.tar.gz", "acme_http-0.4.1-py3-none-any.whl"),
    "storage": ("acme_storage-2.0.3.tar.gz", "acme_storage-2.0.3-py3-none-any.whl"),
    "app": ("acme_app-0.9.0.tar.gz", "acme_app-0.9.0-py3-none-any.whl"),
}


def test_build_writes_pinned_artifacts_and_leaves_the_tree_clean(demo_repo, run_cli):
    pyprojects = {p: p.read_bytes() for p in demo_repo.glob("packages/*/pyproject.toml")}

    result = run_cli("build", "--root", demo_repo)

    assert result.exit_code == 0, result.stderr
    for folder, expected in DEMO_PACKAGES.items():
        assert dist_files(demo_repo / "packages" / folder) == sorted(expected)
    app = demo_repo / "packages" / "app"
    assert sorted(requires_dist(wheel_metadata(wheel_of(app)))) == [
        "acme-storage (>=2.0.3,<3.0.0)",
        "acme_http (>=0.4.1,<0.5.0)",
    ]
    pkg_info = sdist_member(sdist_of(app), "PKG-INFO")
    assert sorted(requires_dist(pkg_info)) == sorted(requires_dist(wheel_metadata(wheel_of(app))))
    sdist_pyproject = sdist_member(sdist_of(app), "pyproject.toml")
    assert "path =" not in sdist_pyproject
    assert 'acme_http = ">=0.4.1,<0.5.0"' in sdist_pyproject
    assert "[tool.poetry.group.test.dependencies]" in sdist_pyproject  # the rest is kept
    storage = demo_repo / "packages" / "storage"
    storage_pyproject = sdist_member(sdist_of(storage), "pyproject.toml")
    assert 'dependencies = ["acme-core>=1.2.0,<2.0.0"]' in storage_pyproject
    assert "path" not in storage_pyproject
    for wheel in demo_repo.glob("packages/*/dist/*.whl"):
        assert "@ file:" not in wheel_metadata(wheel)
    # The working tree is untouched: same pyproject files, nothing new for git to see.
    assert {p: p.read_bytes() for p in pyprojects} == pyprojects
    assert git_status(demo_repo) == ""
    assert "acme-app" in result.stdout
    assert "built" in result.stdout


def test_json_reports_artifacts_with_their_hashes(demo_repo, run_cli):
    result = run_cli("build", "--root", demo_repo, "--json")

    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["status"] == "passed"
    names = [package["name"] for package in payload["packages"]]
    assert names.index("acme-core") < names.index("acme-http") < names.index("acme-app")
    assert names.index("acme-storage") < names.index("acme-app")
    for package in payload["packages"]:
        assert package["status"] == "built"
        assert {a["kind"] for a in package["artifacts"]} == {"sdist", "wheel"}
        for artifact in package["artifacts"]:
            data = Path(artifact["path"]).read_bytes()
            assert hashlib.sha256(data).hexdigest() == artifact["sha256"]
            assert len(data) == artifact["size"]


def test_second_build_is_up_to_date_and_a_change_rebuilds_only_that_package(demo_repo, run_cli):
    assert run_cli("build", "--root", demo_repo).exit_code == 0
    wheel = wheel_of(demo_repo / "packages" / "http")
    before = wheel.stat().st_mtime_ns

    again = json.loads(run_cli("build", "--root", demo_repo, "--json").stdout)
    assert {p["status"] for p in again["packages"]} == {"up to date"}
    assert wheel.stat().st_mtime_ns == before
    assert all(len(p["artifacts"]) == 2 for p in again["packages"])

    module = demo_repo / "packages" / "http" / "src" / "acme_http" / "__init__.py"
    module.write_text(module.read_text() + "\nCHANGED = True\n")
    changed = json.loads(run_cli("build", "--root", demo_repo, "--json").stdout)
    statuses = {p["name"]: (p["status"], p["reason"]) for p in changed["packages"]}
    assert statuses["acme-http"] == ("built", "inputs changed")
    assert statuses["acme-core"][0] == statuses["acme-app"][0] == "up to date"
    with_change = wheel_of(demo_repo / "packages" / "http")
    assert "CHANGED = True" in _wheel_text(with_change)

    forced = json.loads(run_cli("build", "--root", demo_repo, "--json", "--force").stdout)
    assert {p["status"] for p in forced["packages"]} == {"built"}


def _wheel_text(wheel: Path) -> str:
    import zipfile

    with zipfile.ZipFile(wheel) as archive:
        return archive.read("acme_http/__init__.py").decode()


def test_dry_run_lists_what_would_be_built_and_why_and_writes_nothing(demo_repo, run_cli):
    result = run_cli("build", "--root", demo_repo, "--dry-run", "--json")

    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["dry_run"] is True
    assert {(p["status"], p["reason"]) for p in payload["packages"]} == {
        ("would build", "no previous build")
    }
    assert not list(demo_repo.glob("packages/*/dist"))

    assert run_cli("build", "--root", demo_repo, "-p", "acme-core").exit_code == 0
    text = run_cli("build", "--root", demo_repo, "--dry-run").stdout
    assert "would build (no previous build)" in text
    assert "up to date" in text


def test_package_selection_builds_only_the_named_packages(demo_repo, run_cli):
    result = run_cli("build", "--root", demo_repo, "-p", "ACME_HTTP", "--package", "acme-core")

    assert result.exit_code == 0, result.stderr
    assert dist_files(demo_repo / "packages" / "http")
    assert dist_files(demo_repo / "packages" / "core")
    assert not dist_files(demo_repo / "packages" / "app")
    assert not dist_files(demo_repo / "packages" / "storage")


def test_since_builds_changed_packages_and_their_dependents(demo_repo, run_cli):
    from build_helpers import git

    storage = demo_repo / "packages" / "storage" / "src" / "acme_storage" / "__init__.py"
    storage.write_text(storage.read_text() + "\n# changed\n")
    git(demo_repo, "commit", "-q", "-am", "fix: storage")

    result = run_cli("build", "--root", demo_repo, "--since", "HEAD~1", "--json")

    assert result.exit_code == 0, result.stderr
    assert {p["name"] for p in json.loads(result.stdout)["packages"]} == {
        "acme-storage",
        "acme-app",
    }


def test_bad_input_exits_2_with_one_sentence(demo_repo, run_cli):
    unknown = run_cli("build", "--root", demo_repo, "-p", "acme-nope")
    assert unknown.exit_code == 2
    assert "acme-nope" in unknown.stderr
    assert "Traceback" not in unknown.stderr

    builder = run_cli("build", "--root", demo_repo, "--builder", "maven")
    assert builder.exit_code == 2
    assert "maven" in builder.stderr
    assert not list(demo_repo.glob("packages/*/dist"))


def test_a_failed_package_blocks_its_dependents_only(demo_repo, run_cli):
    pyproject = demo_repo / "packages" / "http" / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace(
            'packages = [{ include = "acme_http", from = "src" }]',
            'packages = [{ include = "acme_missing", from = "src" }]',
        )
    )

    result = run_cli("build", "--root", demo_repo, "--json")

    assert result.exit_code == 1
    statuses = {p["name"]: p for p in json.loads(result.stdout)["packages"]}
    assert statuses["acme-http"]["status"] == "failed"
    assert "acme_missing" in statuses["acme-http"]["error"]
    assert statuses["acme-app"]["status"] == "blocked"
    assert "acme-http" in statuses["acme-app"]["error"]
    assert statuses["acme-core"]["status"] == statuses["acme-storage"]["status"] == "built"
    assert not dist_files(demo_repo / "packages" / "http")
    assert not dist_files(demo_repo / "packages" / "app")
    assert "acme-http" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_readme_outside_the_package_is_named_and_a_symlink_to_it_builds(demo_repo, run_cli):
    (demo_repo / "README.md").write_text("# Acme, the whole monorepo\n")
    core = demo_repo / "packages" / "core"
    pyproject = core / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('readme = "README.md"', 'readme = "../../README.md"')
    )

    outside = run_cli("build", "--root", demo_repo, "-p", "acme-core", "--json")

    assert outside.exit_code == 1
    error = json.loads(outside.stdout)["packages"][0]["error"]
    assert "readme '../../README.md' is outside the package folder packages/core" in error
    assert "poetflow-build-" not in error  # names the user's file, not the staging copy

    pyproject.write_text(pyproject.read_text().replace("../../README.md", "README.md"))
    (core / "README.md").unlink()
    (core / "README.md").symlink_to(Path("..", "..", "README.md"))
    linked = run_cli("build", "--root", demo_repo, "-p", "acme-core")
    assert linked.exit_code == 0, linked.stderr
    readme = sdist_member(sdist_of(core), "README.md")
    assert readme == "# Acme, the whole monorepo\n"


def test_realshaped_workspace_pins_extras_and_groups(realshaped, run_cli):
    result = run_cli("build", "--root", realshaped, "--json")

    assert result.exit_code == 0, result.stderr
    utils = realshaped / "libs" / "group" / "util-lib"
    assert dist_files(utils) == ["rs_utils-0.3.2-py3-none-any.whl", "rs_utils-0.3.2.tar.gz"]
    metadata = wheel_metadata(wheel_of(utils))
    assert sorted(requires_dist(metadata)) == [
        "rs-base (>=1.4.0,<2.0.0)",
        'rs-extra (>=0.1.0,<0.2.0) ; extra == "fast"',
    ]
    assert "Provides-Extra: fast" in metadata
    service = realshaped / "apps" / "service"
    service_metadata = wheel_metadata(wheel_of(service))
    assert sorted(requires_dist(service_metadata)) == [
        "RS_Utils (>=0.3.2,<0.4.0)",
        'rs-extra (>=0.1.0,<0.2.0) ; extra == "plugins"',
    ]
    assert "rs-testkit" not in service_metadata  # dev groups never reach the metadata
    assert "rs-testkit" not in metadata
    sdist_pyproject = sdist_member(sdist_of(service), "pyproject.toml")
    assert "path =" not in sdist_pyproject
    assert 'rs-testkit = ">=0.0.1,<0.1.0"' in sdist_pyproject
    utils_pyproject = sdist_member(sdist_of(utils), "pyproject.toml")
    assert 'rs-extra = {version = ">=0.1.0,<0.2.0", optional = true}' in utils_pyproject
    assert git_status(realshaped) == ""
