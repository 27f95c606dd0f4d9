"""`poetflow changelog`: sections, links, JSON schema, root changelog, idempotence."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from version_history import git

from poetflow.changelog.markdown import END_MARKER
from poetflow.changelog.model import commit_url_base


def _changed(repo: Path) -> str:
    return git(repo, "status", "--porcelain", "--untracked-files=all")


def test_changelog_sections_links_and_idempotence(
    history_repo: Path, run_cli: Callable[..., Any]
) -> None:
    git(history_repo, "remote", "add", "origin", "git@github.com:acme/mono.git")
    first = run_cli("changelog", cwd=history_repo)
    assert first.exit_code == 0, first.stderr
    http = (history_repo / "packages/http/CHANGELOG.md").read_text()
    assert http.startswith("# Changelog\n")
    assert "## Unreleased" in http
    assert "## 0.3.0" in http
    breaking = http.index("### Breaking changes")
    fixes = http.index("### Bug fixes")
    assert breaking < fixes
    assert "- **http:** new client ([" in http
    assert "  the Client class is gone" in http
    sha = git(history_repo, "log", "-1", "--format=%H", "--grep", "retry")
    assert f"([{sha[:7]}](https://github.com/acme/mono/commit/{sha}))" in http
    # Not released and nothing but chores/tests: no section for test(core) commits.
    core = (history_repo / "packages/core/CHANGELOG.md").read_text()
    assert "more tests" not in core
    assert "Update the readme" not in core
    root = (history_repo / "CHANGELOG.md").read_text()
    assert "## storage 1.0.0" in root
    snapshot = {p: p.read_text() for p in history_repo.rglob("CHANGELOG.*")}
    again = run_cli("changelog", cwd=history_repo)
    assert again.exit_code == 0
    assert "up to date" in again.stdout
    assert {p: p.read_text() for p in history_repo.rglob("CHANGELOG.*")} == snapshot


def test_hand_written_text_is_preserved(history_repo: Path, run_cli: Callable[..., Any]) -> None:
    path = history_repo / "packages/storage/CHANGELOG.md"
    path.write_text("# Storage changes\n\nIntro written by hand.\n\n## 0.9.0\n\n- old notes\n")
    assert run_cli("changelog", "-p", "storage", cwd=history_repo).exit_code == 0
    text = path.read_text()
    assert text.startswith("# Storage changes\n\n<!-- poetflow:changelog:start")
    assert text.endswith("Intro written by hand.\n\n## 0.9.0\n\n- old notes\n")
    assert text.count("## 1.0.0") == 1
    # Text added by hand after the block survives a release and a rerun, with no duplicates.
    path.write_text(text.replace(END_MARKER, END_MARKER + "\n\nFooter by hand."))
    bump = run_cli("version", "bump", "--changelog", "--commit", "--tag", cwd=history_repo)
    assert bump.exit_code == 0, bump.stderr
    released = path.read_text()
    assert released.count("## 2.0.0") == 1
    assert "Footer by hand." in released
    assert "Intro written by hand." in released
    assert run_cli("changelog", cwd=history_repo).exit_code == 0
    assert path.read_text() == released
    assert _changed(history_repo).split() in (
        [],
        ["??", "packages/quiet/CHANGELOG.json", "??", "packages/quiet/CHANGELOG.md"],
    )


def test_json_changelog_schema(history_repo: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli(
        "changelog", "-p", "http", "--format", "json", "--json", "--dry-run", cwd=history_repo
    )
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["dry_run"] is True
    assert not (history_repo / "packages/http/CHANGELOG.json").exists()
    (changelog,) = payload["packages"]
    assert changelog["schema"] == "poetflow-changelog/1"
    assert changelog["package"] == "http"
    unreleased, released = changelog["releases"]
    assert unreleased["unreleased"] is True
    assert unreleased["version"] is None
    assert released["version"] == "0.3.0"
    assert released["tag"] == "http-v0.3.0"
    sections = {section["id"]: section for section in unreleased["sections"]}
    entry = sections["breaking"]["entries"][0]
    assert set(entry) == {
        "type",
        "scope",
        "subject",
        "breaking",
        "breaking_note",
        "hash",
        "short_hash",
        "url",
    }
    assert entry["breaking_note"] == "the Client class is gone"
    written = run_cli("changelog", "-p", "http", "--format", "json", cwd=history_repo)
    assert written.exit_code == 0
    on_disk = json.loads((history_repo / "packages/http/CHANGELOG.json").read_text())
    assert on_disk == changelog
    assert not (history_repo / "packages/http/CHANGELOG.md").exists()


def test_remote_url_forms() -> None:
    assert commit_url_base("https://github.com/acme/mono.git") == (
        "https://github.com/acme/mono",
        "github",
    )
    assert commit_url_base("ssh://git@gitlab.com/group/sub/mono.git") == (
        "https://gitlab.com/group/sub/mono",
        "gitlab",
    )
    assert commit_url_base("/srv/git/mono.git") is None


def test_unknown_format_is_bad_input(history_repo: Path, run_cli: Callable[..., Any]) -> None:
    result = run_cli("changelog", "--format", "rst", cwd=history_repo)
    assert result.exit_code == 2
    assert "markdown or json" in result.stderr
