"""Hooks attached to the real stages, run through the CLI on small monorepos."""

from __future__ import annotations

import json
import os
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

RECORD = (
    'echo "$POETFLOW_HOOK $POETFLOW_PACKAGE $POETFLOW_VERSION" >> "$POETFLOW_ROOT/order.log"'
)
GENERATE = 'echo "generated for $POETFLOW_PACKAGE" > "src/$(echo $POETFLOW_PACKAGE)/GENERATED.txt"'
TWINE = "IFS=:; twine check $POETFLOW_ARTIFACTS >> $POETFLOW_ROOT/twine.log"


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_build_runs_pre_and_post_hooks_per_package_in_dependency_order(
    hooked_repo: Callable[..., Path], run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # twine is installed next to the interpreter running the tests (the dev group).
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    root = hooked_repo(
        f"pre-build = [{json.dumps(RECORD)}, {json.dumps(GENERATE)}]\n"
        f"post-build = [{json.dumps(RECORD)}, {json.dumps(TWINE)}]\n"
    )
    result = run_cli("build", "--jobs", "1", cwd=root)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert _lines(root / "order.log") == [
        "pre-build core 1.0.0",
        "post-build core 1.0.0",
        "pre-build app 2.0.0",
        "post-build app 2.0.0",
    ]
    # The file the pre-build hook generated ships in the wheel.
    wheel = next((root / "packages" / "core" / "dist").glob("*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("core/GENERATED.txt").decode() == "generated for core\n"
    # post-build saw both artifacts and twine checked them.
    assert (root / "twine.log").read_text().count("PASSED") == 4


def test_a_failing_pre_build_hook_fails_the_package_and_blocks_its_dependents(
    hooked_repo: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    root = hooked_repo(
        f"post-build = [{json.dumps(RECORD)}]\n",
        {"core": '\n[tool.poetflow.hooks]\npre-build = ["echo schema missing >&2; exit 5"]\n'},
    )
    result = run_cli("build", "--json", cwd=root)
    assert result.exit_code == 1
    packages = {item["name"]: item for item in json.loads(result.stdout)["packages"]}
    assert packages["core"]["status"] == "failed"
    assert "pre-build hook 'echo schema missing >&2; exit 5' of package 'core'" in (
        packages["core"]["error"]
    )
    assert "schema missing" in packages["core"]["error"]
    assert packages["app"]["status"] == "blocked"
    assert not (root / "packages" / "core" / "dist").exists()
    assert _lines(root / "order.log") == []


def test_a_failing_post_build_hook_fails_the_package(
    hooked_repo: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    root = hooked_repo('post-build = ["test $POETFLOW_PACKAGE != app"]\n')
    result = run_cli("build", "--json", cwd=root)
    assert result.exit_code == 1
    packages = {item["name"]: item for item in json.loads(result.stdout)["packages"]}
    assert packages["core"]["status"] == "built"
    assert packages["app"]["status"] == "failed"
    assert "post-build hook" in packages["app"]["error"]


def test_a_missing_hook_program_is_exit_2_before_anything_is_built(
    hooked_repo: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    root = hooked_repo('post-build = ["sphinx-build-not-installed docs out"]\n')
    result = run_cli("build", cwd=root)
    assert result.exit_code == 2
    assert "post-build hook of package 'app'" in result.stderr or (
        "post-build hook of package 'core'" in result.stderr
    )
    assert "'sphinx-build-not-installed', which is not on PATH" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (root / "packages" / "core" / "dist").exists()


def test_build_dry_run_lists_hooks_and_runs_none(
    hooked_repo: Callable[..., Path], run_cli: Callable[..., Any]
) -> None:
    root = hooked_repo(f"pre-build = [{json.dumps(RECORD)}]\n")
    result = run_cli("build", "--dry-run", cwd=root)
    assert result.exit_code == 0, result.stderr
    assert "would run pre-build hook of core" in result.stderr
    assert _lines(root / "order.log") == []
