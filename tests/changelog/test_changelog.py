"""`poetflow changelog`: sections, links, JSON schema, root changelog, idempotence."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
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
    # Independent versions: each package's changelog is the changelog; no root one.
    assert not (history_repo / "CHANGELOG.md").exists()
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
    # After the preamble, above the newest release the file already has.
    assert text.startswith("# Storage changes\n\nIntro written by hand.\n\n<!-- poetflow:")
    assert text.endswith("<!-- poetflow:changelog:end -->\n\n## 0.9.0\n\n- old notes\n")
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
    assert not (history_repo / "CHANGELOG.md").exists()


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


def test_a_release_caused_by_dependencies_says_which_and_that_they_broke(
    history_repo: Path, run_cli: Callable[..., Any]
) -> None:
    bump = run_cli("version", "bump", "--changelog", "--commit", "--tag", cwd=history_repo)
    assert bump.exit_code == 0, bump.stderr
    # app has no commits of its own: storage (feat!) and http (breaking, 0.x) made it 0.5.1.
    app = (history_repo / "packages/app/CHANGELOG.md").read_text()
    start = app.index("## 0.5.1")
    released = app[start : app.index("\n## ", start)]
    assert "No notable changes of its own" not in released
    assert "### Dependencies" in released
    assert "- http 0.3.0 → 0.4.0 — **breaking changes** in http 0.4.0" in released
    assert "- storage 1.0.0 → 2.0.0 — **breaking changes** in storage 2.0.0" in released
    payload = json.loads((history_repo / "packages/app/CHANGELOG.json").read_text())
    sections = {s["id"]: s for s in payload["releases"][0]["sections"]}
    entry = next(e for e in sections["dependencies"]["entries"] if e["scope"] == "storage")
    assert entry["dependency"] == {"name": "storage", "from": "1.0.0", "to": "2.0.0"}
    assert entry["breaking"] is True
    # core's feature is not breaking, and http says so about its own dependency.
    http = (history_repo / "packages/http/CHANGELOG.md").read_text()
    assert "- core 1.2.0 → 1.3.0\n" in http
    # Regenerated from git later, the release still lists them (from its release commit).
    assert run_cli("changelog", cwd=history_repo).exit_code == 0
    assert (history_repo / "packages/app/CHANGELOG.md").read_text() == app


EXISTING = {
    "release-please": (
        "# Changelog\n\n"
        "## [1.2.0](https://github.com/acme/mono/compare/core-v1.1.0...core-v1.2.0) "
        "(2024-01-02)\n\n### Features\n\n* money ([abc1234](https://x))\n"
    ),
    "keep-a-changelog": (
        "# Changelog\n\nAll notable changes to this project will be documented in this file.\n"
        "\nThe format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/).\n"
        "\n## [Unreleased]\n\n### Added\n\n- Notes written by hand.\n\n"
        "## [1.2.0] - 2024-01-02\n\n### Added\n\n- Money.\n\n"
        "[1.2.0]: https://github.com/acme/mono/releases/tag/core-v1.2.0\n"
    ),
    "commitizen": "## v1.2.0 (2024-01-02)\n\n### Feat\n\n- money\n",
    "semantic-release": (
        "# CHANGELOG\n\n<!--next-version-placeholder-->\n\n## v1.2.0 (2024-01-02)\n\n"
        "### Feature\n\n* Money\n"
    ),
}


@pytest.mark.parametrize("style", list(EXISTING))
def test_an_existing_changelog_gets_new_releases_where_it_keeps_them(
    history_repo: Path, run_cli: Callable[..., Any], style: str
) -> None:
    path = history_repo / "packages/core/CHANGELOG.md"
    original = EXISTING[style]
    path.write_text(original)
    git(history_repo, "add", "-A")
    git(history_repo, "commit", "-q", "-m", f"docs(core): changelog from {style}")
    bump = run_cli(
        "version", "bump", "-p", "core", "--changelog", "--commit", "--tag", cwd=history_repo
    )
    assert bump.exit_code == 0, bump.stderr
    text = path.read_text()
    block = text[text.index("<!-- poetflow:changelog:start") : text.index(END_MARKER)]
    before, after = text.split(block, 1)
    # The new release sits above the newest release the file had, below its preamble...
    assert "## [1.3.0](" in block or "## 1.3.0" in block
    assert "1.2.0" in after
    assert "1.2.0" not in before
    # ...1.2.0 is not written a second time, and nothing claims there are no releases.
    assert "1.2.0" not in block
    assert "No releases yet." not in text
    assert text.replace(block + END_MARKER + "\n\n", "") == original
    if style == "keep-a-changelog":
        assert before.index("## [Unreleased]") < len(before)  # hand-written Unreleased first
        assert "## Unreleased" not in block
    if style == "semantic-release":
        assert before.endswith("<!--next-version-placeholder-->\n\n")
    # Nothing new to say: the file stays as it is, a second run changes nothing.
    assert run_cli("changelog", "-p", "core", cwd=history_repo).exit_code == 0
    assert path.read_text() == text


def test_history_only_changelog_is_left_alone(
    history_repo: Path, run_cli: Callable[..., Any]
) -> None:
    # app has no commits since app-v0.5.0, which its hand-kept changelog describes.
    path = history_repo / "packages/app/CHANGELOG.md"
    original = "# Changelog\n\n## 0.5.0 (2024-01-02)\n\n- App.\n"
    path.write_text(original)
    done = run_cli("changelog", "-p", "app", "--format", "markdown", cwd=history_repo)
    assert done.exit_code == 0
    assert path.read_text() == original


def test_synchronized_versioning_writes_the_root_changelog_of_each_release(
    history_repo: Path, run_cli: Callable[..., Any]
) -> None:
    (history_repo / "pyproject.toml").write_text(
        '[tool.poetflow]\npackages = ["packages/*"]\nversioning = "synchronized"\n'
    )
    git(history_repo, "commit", "-q", "-am", "chore: synchronize")
    bump = run_cli("version", "bump", "--changelog", "--commit", "--tag", cwd=history_repo)
    assert bump.exit_code == 0, bump.stderr
    root = (history_repo / "CHANGELOG.md").read_text()
    assert root.startswith("# Changelog\n")
    assert root.count("## 2.0.0 (") == 1
    heading = root.index("## 2.0.0 (")
    for name in ("core", "http", "storage", "app"):
        assert root.index(f"### {name} 2.0.0", heading) > heading
    assert "#### Features" in root
    # Configured off, there is none; configured elsewhere, it goes there.
    pyproject = history_repo / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '\n[tool.poetflow.changelog]\nroot-changelog = "docs/CHANGES.md"\n'
    )
    (history_repo / "docs").mkdir()
    assert run_cli("changelog", cwd=history_repo).exit_code == 0
    assert "## 2.0.0 (" in (history_repo / "docs/CHANGES.md").read_text()
