"""``poetflow discover`` and ``poetflow graph`` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import CliResult, git

RunCli = Callable[..., CliResult]


def test_discover_json_in_topological_order(demo_repo: Path, run_cli: RunCli) -> None:
    result = run_cli("discover", "--json", cwd=demo_repo / "packages" / "app")
    assert result.exit_code == 0, result.stderr
    packages = json.loads(result.stdout)["packages"]
    names = [p["name"] for p in packages]
    assert names[0] == "acme-core"
    assert names[-1] == "acme-app"
    app = packages[-1]
    assert app["dependencies"] == ["acme-http", "acme-storage"]
    assert app["version"] == "0.9.0"
    assert app["path"] == "packages/app"
    assert app["style"] == "poetry"


def test_discover_table_lists_every_package(demo_repo: Path, run_cli: RunCli) -> None:
    result = run_cli("--root", demo_repo, "discover")
    assert result.exit_code == 0
    for name in ("acme-core", "acme-http", "acme-storage", "acme-app"):
        assert name in result.stdout
    assert "pep621" in result.stdout


def test_selection_by_any_spelling(demo_repo: Path, run_cli: RunCli) -> None:
    result = run_cli(
        "discover", "--root", demo_repo, "--json", "-p", "ACME_HTTP", "-p", "acme.core"
    )
    assert [p["name"] for p in json.loads(result.stdout)["packages"]] == ["acme-core", "acme-http"]


def test_unknown_package_exit_2_with_suggestion(demo_repo: Path, run_cli: RunCli) -> None:
    result = run_cli("discover", "--root", demo_repo, "-p", "acme-sotrage")
    assert result.exit_code == 2
    assert "did you mean 'acme-storage'" in result.stderr
    assert "Traceback" not in result.stderr


def test_since_selects_changed_packages_and_dependents(demo_repo: Path, run_cli: RunCli) -> None:
    base = git(demo_repo, "rev-parse", "HEAD")
    (demo_repo / "packages" / "storage" / "src" / "acme_storage" / "extra.py").write_text("X = 1\n")
    git(demo_repo, "add", "-A")
    git(demo_repo, "commit", "-q", "-m", "feat(storage): extra")
    result = run_cli("discover", "--root", demo_repo, "--json", "--since", base)
    assert result.exit_code == 0, result.stderr
    assert [p["name"] for p in json.loads(result.stdout)["packages"]] == [
        "acme-storage",
        "acme-app",
    ]


def test_since_unknown_ref_is_bad_input(demo_repo: Path, run_cli: RunCli) -> None:
    result = run_cli("discover", "--root", demo_repo, "--since", "no-such-ref")
    assert result.exit_code == 2
    assert "'no-such-ref' does not exist" in result.stderr


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ("broken", "packages/bad/pyproject.toml is not valid TOML"),
        ("duplicate", "Two packages are named 'same-name'"),
        ("missingpath", "points at '../ghost', which does not exist"),
        ("badconfig", "tool.poetflow.versioning is 'lockstep'"),
    ],
)
def test_bad_input_exit_2_one_sentence_no_traceback(
    scenario: str, message: str, fixture_workspace: Callable[..., Path], run_cli: RunCli
) -> None:
    root = fixture_workspace(scenario)
    result = run_cli("discover", "--root", root)
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_debug_level_shows_the_traceback(
    fixture_workspace: Callable[..., Path], run_cli: RunCli
) -> None:
    root = fixture_workspace("broken")
    result = run_cli("discover", "--root", root, "--log-level", "debug")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr


def test_json_log_format(fixture_workspace: Callable[..., Path], run_cli: RunCli) -> None:
    root = fixture_workspace("broken")
    result = run_cli("--log-format", "json", "discover", "--root", root)
    record: dict[str, Any] = json.loads(result.stderr.strip().splitlines()[-1])
    assert record["level"] == "error"
    assert "not valid TOML" in record["message"]


def test_graph_json_mermaid_dot(demo_repo: Path, run_cli: RunCli) -> None:
    data = json.loads(run_cli("graph", "--root", demo_repo, "--json").stdout)
    assert data["order"] == ["acme-core", "acme-http", "acme-storage", "acme-app"]
    assert {"from": "acme-http", "to": "acme-core", "kind": "runtime"} in data["edges"]
    assert data["cycles"] == []
    mermaid = run_cli("graph", "--root", demo_repo, "--format", "mermaid").stdout
    assert mermaid.startswith("graph TD")
    assert "n_acme_app --> n_acme_http" in mermaid
    dot = run_cli("graph", "--root", demo_repo, "-f", "dot").stdout
    assert '"acme-storage" -> "acme-core";' in dot


def test_graph_reports_cycles_without_failing(
    fixture_workspace: Callable[..., Path], run_cli: RunCli
) -> None:
    result = run_cli("graph", "--root", fixture_workspace("cycle"), "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["cycles"] == [["cyc-x", "cyc-y", "cyc-z"]]


def test_help_imports_no_heavy_library(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from poetflow.cli.app import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pygit2', 'sigstore', 'opentelemetry', 'poetry',"
        " 'httpx', 'requests') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    ).stdout
    assert "HEAVY []" in out


def test_console_script_runs(demo_repo: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "poetflow", "graph", "--json"],
        cwd=demo_repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["order"][0] == "acme-core"
