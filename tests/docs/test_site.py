"""The documentation site builds strictly and its reference pages come from the code."""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import REPO_ROOT

import poetflow.errors

DOCS = REPO_ROOT / "docs"


@pytest.mark.slow
def test_mkdocs_builds_strictly_with_generated_references(tmp_path: Path) -> None:
    site = tmp_path / "site"
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    completed = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    cli = (site / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    for command in ("poetflow init", "poetflow doctor", "poetflow discover", "poetflow build"):
        assert command in cli
    assert "POETFLOW_SINCE" in cli
    errors = (site / "reference" / "errors" / "index.html").read_text(encoding="utf-8")
    assert "MissingCredentialsError" in errors
    assert "PoetryNotFoundError" in errors  # defined outside errors.py, found by walking
    assert (site / "reference" / "report-schema" / "index.html").is_file()
    # The generator is a build-time hook, not a page.
    assert not (site / "gen_cli_reference.py").exists()


def test_troubleshooting_explains_every_error_class() -> None:
    text = (DOCS / "troubleshooting.md").read_text(encoding="utf-8")
    classes = [
        name
        for name, value in vars(poetflow.errors).items()
        if inspect.isclass(value)
        and issubclass(value, poetflow.errors.PoetFlowError)
        and value is not poetflow.errors.PoetFlowError
    ]
    missing = [name for name in classes if f"`{name}`" not in text]
    assert not missing, f"docs/troubleshooting.md does not explain {', '.join(missing)}"


def test_every_page_is_in_the_navigation() -> None:
    nav = (REPO_ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = [page.relative_to(DOCS).as_posix() for page in DOCS.rglob("*.md")]
    assert pages
    assert all(page in nav for page in pages), "a page in docs/ is missing from mkdocs.yml nav"
