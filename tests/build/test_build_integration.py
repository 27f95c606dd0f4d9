"""Slow end-to-end builds: `--builder poetry` equivalence, PEP 517 backends, installing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from build_helpers import (
    add_hatch_package,
    dist_files,
    git,
    git_status,
    requires_dist,
    sdist_member,
    sdist_of,
    wheel_metadata,
    wheel_of,
)

from poetflow.build.engine import build_packages
from poetflow.build.results import BuildOptions
from poetflow.workspace import load_workspace

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

pytestmark = pytest.mark.slow


def _metadata_by_file(root: Path) -> dict[str, str]:
    found = {}
    for wheel in sorted(root.rglob("dist/*.whl")):
        found[wheel.name] = wheel_metadata(wheel)
    for sdist in sorted(root.rglob("dist/*.tar.gz")):
        found[sdist.name] = sdist_member(sdist, "PKG-INFO")
    return found


def test_poetry_builder_gives_the_same_files_and_metadata(realshaped, run_cli):
    core = run_cli("build", "--root", realshaped, "--json")
    assert core.exit_code == 0, core.stderr
    from_core = _metadata_by_file(realshaped)

    poetry = run_cli("build", "--root", realshaped, "--builder", "poetry", "--json")

    assert poetry.exit_code == 0, poetry.stderr
    assert '"backend": "poetry"' in poetry.stdout
    assert '"reason": "inputs changed"' in poetry.stdout  # another builder is another input
    from_poetry = _metadata_by_file(realshaped)
    assert sorted(from_poetry) == sorted(from_core)
    assert from_poetry == from_core
    assert len(from_core) == 10
    assert git_status(realshaped) == ""


def test_a_hatchling_member_builds_through_its_pep517_backend(realshaped, run_cli):
    hatch = add_hatch_package(realshaped)
    git(realshaped, "add", "-A")
    git(realshaped, "commit", "-q", "-m", "feat: hatch member")

    result = run_cli("build", "--root", realshaped, "-p", "rs-hatch", "-p", "rs-base", "--json")

    assert result.exit_code == 0, result.stderr
    assert '"backend": "hatchling.build"' in result.stdout
    assert dist_files(hatch) == ["rs_hatch-0.5.0-py3-none-any.whl", "rs_hatch-0.5.0.tar.gz"]
    assert requires_dist(wheel_metadata(wheel_of(hatch))) == ["rs-base<2.0.0,>=1.4.0"]
    assert 'dependencies = ["rs-base>=1.4.0,<2.0.0"]' in sdist_member(
        sdist_of(hatch), "pyproject.toml"
    )
    again = run_cli("build", "--root", realshaped, "-p", "rs-hatch", "--json")
    assert '"status": "up to date"' in again.stdout


def _install_and_import(wheelhouse: Path, requirements: list[str], modules: list[str], tmp: Path):
    """pip-install ``requirements`` from ``wheelhouse`` only, into a fresh venv; import."""
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-index",
            "--find-links",
            str(wheelhouse),
            "--only-binary",
            ":all:",
            *requirements,
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    code = "; ".join(f"import {module}" for module in modules)
    imported = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, check=False
    )
    assert imported.returncode == 0, imported.stderr


def _wheelhouse(roots: list[Path], target: Path) -> Path:
    target.mkdir()
    for root in roots:
        for wheel in root.rglob("dist/*.whl"):
            shutil.copy(wheel, target)
    return target


def test_built_wheels_install_together_and_import(demo_repo, realshaped, run_cli, tmp_path):
    assert run_cli("build", "--root", demo_repo).exit_code == 0
    assert run_cli("build", "--root", realshaped).exit_code == 0
    wheelhouse = _wheelhouse([demo_repo, realshaped], tmp_path / "wheels")

    _install_and_import(
        wheelhouse,
        ["acme-app", "rs-service[plugins]", "rs-utils[fast]", "rs-testkit"],
        [
            "acme_app",
            "acme_http",
            "acme_storage",
            "acme_core",
            "rs_service",
            "rs_utils",
            "rs_base",
            "rs_extra",
            "rs_testkit",
        ],
        tmp_path,
    )


def test_generated_50_package_monorepo_builds_installs_and_imports(tmp_path):
    sys.path.insert(0, str(BENCHMARKS))
    from monorepo_gen import generate_monorepo

    root = tmp_path / "mono"
    names = generate_monorepo(root, 50)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    workspace = load_workspace(root)

    report = build_packages(workspace, workspace.packages, BuildOptions(jobs=2))

    assert report.ok, [p.error for p in report.packages if not p.ok]
    assert [p.status for p in report.packages] == ["built"] * 50
    for wheel in root.glob("packages/*/dist/*.whl"):
        assert "@ file:" not in wheel_metadata(wheel)
    second = build_packages(workspace, workspace.packages, BuildOptions())
    assert {p.status for p in second.packages} == {"up to date"}
    _install_and_import(
        _wheelhouse([root], tmp_path / "wheels"),
        [names[-1], names[-2]],
        [name.replace("-", "_") for name in names[-3:]],
        tmp_path,
    )
