"""What people read: text meant as text is never rich markup, and tables fit the output."""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.conftest import CliResult, git

from poetflow.cli.output import print_table, print_text

# Strings that rich would take for markup tags: a TOML table, an extra, a marker, a tag.
TRICKY = [
    "[tool.poetflow]",
    "pkg[s3]",
    'requests[socks]>=2; python_version < "3.11"',
    "[bold]not bold[/bold]",
]
URL = "https://files.example.com/packages/acme_storage-2.1.0-py3-none-any.whl"
FILES = ["acme_storage-2.1.0.tar.gz", "acme_storage-2.1.0-py3-none-any.whl"]


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


@pytest.fixture(params=["terminal", "log"])
def output(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """stdout as a terminal (a rich table) or as a CI log (plain text, no rich)."""
    terminal = request.param == "terminal"
    monkeypatch.setattr("poetflow.cli.output._is_terminal", lambda: terminal)
    return str(request.param)


def _table(width: int) -> None:
    rows = [[value, value, [value, URL], *FILES] for value in TRICKY]
    print_table(
        f"title {TRICKY[0]}", ["package", "fix", "list", "sdist", "wheel"], rows, width=width
    )


@pytest.mark.parametrize("width", [80, 200])
def test_markup_like_text_prints_as_written(
    output: str, width: int, capsys: pytest.CaptureFixture[str]
) -> None:
    _table(width)
    for value in TRICKY:
        print_text(f"message: {value}")
    shown = _strip_ansi(capsys.readouterr().out)
    assert "title [tool.poetflow]" in shown
    for value in TRICKY:
        assert f"message: {value}" in shown
        # Whole in the table too: not eaten as a tag, not cut in the middle of a word.
        for word in value.split():
            assert word in shown, (output, width, word)
    assert "not bold" in shown
    assert "[/bold]" in shown


@pytest.mark.parametrize("width", [80, 100, 120, 160, 200])
def test_tables_fit_without_cutting_a_file_name_or_a_url(
    output: str, width: int, capsys: pytest.CaptureFixture[str]
) -> None:
    stages = "test: passed, build: built, publish: published"
    rows = [
        ["acme-storage", "2.0.3 -> 2.1.0", stages, FILES, [URL]],
        ["acme-core", "1.2.0", "test: passed", "-", "-"],
    ]
    columns = ["package", "version", "stages", "artifacts", "published"]
    print_table("poetflow run", columns, rows, width=width)
    shown = _strip_ansi(capsys.readouterr().out)
    words = set(shown.replace(",", " ").split())
    assert {*FILES, URL} <= words, shown  # each one whole on one line
    assert max(len(line.rstrip()) for line in shown.splitlines()) <= max(width, len(URL) + 20)
    assert "published" in words  # no column cropped at the edge
    if width >= 160 and output == "terminal":
        # Wide enough for rich (it wraps between words): one row per package, one header.
        assert sum("acme-storage" in line for line in shown.splitlines()) == 1
        assert sum("artifacts" in line for line in shown.splitlines()) == 1


def test_off_a_terminal_rich_is_not_even_imported(tmp_path: Path) -> None:
    import subprocess

    code = (
        "import sys\n"
        "from poetflow.cli.output import print_table\n"
        "print_table('t', ['a', 'b'], [['[x]', ['y', 'z']]])\n"
        "assert not [m for m in sys.modules if m.startswith('rich')], 'rich imported'\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert "[x]" in completed.stdout
    assert "y, z" in completed.stdout


@pytest.mark.parametrize("terminal", [True, False])
def test_doctor_prints_the_table_name_in_its_fix(
    demo_repo: Path,
    run_cli: Callable[..., CliResult],
    monkeypatch: pytest.MonkeyPatch,
    terminal: bool,
) -> None:
    # The report: "Rename one of them or exclude it in ." -- the table was eaten.
    shutil.copytree(demo_repo / "packages" / "core", demo_repo / "packages" / "core-copy")
    git(demo_repo, "add", "-A")
    git(demo_repo, "commit", "-q", "-m", "chore: a copy")
    monkeypatch.setattr("poetflow.cli.output._is_terminal", lambda: terminal)
    monkeypatch.setenv("COLUMNS", "200")
    result = run_cli("doctor", cwd=demo_repo)
    assert result.exit_code == 2
    assert "exclude it in [tool.poetflow]." in _strip_ansi(result.stdout)
