"""Pre-release channels with real git: ``next`` makes rc1, rc2; main graduates them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from channel_repo import (
    build_channel_repo,
    bump,
    commit_change,
    origin_tags,
    release,
    version_of,
)
from packaging.version import Version
from version_history import git

from poetflow.versioning.channels import (
    Channel,
    channel_prerelease,
    continue_counter,
    select_channel,
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return build_channel_repo(tmp_path)


def _pep440(version: str) -> str:
    """The version as PEP 440 normalises it (a SemVer ``-rc.1`` would not survive this)."""
    return str(Version(version))


def test_next_channel_feat_fix_then_merge_to_main(repo: Path, run_cli: Callable[..., Any]) -> None:
    git(repo, "checkout", "-q", "-b", "next")
    commit_change(repo, "lib", "feat(lib): streaming reader")
    plan = release(run_cli, repo, "--push")
    assert plan["channel"] == {
        "name": "next",
        "branch": "next",
        "pattern": "next",
        "prerelease": "rc",
    }
    lib = plan["by_name"]["lib"]
    assert (lib["current"], lib["next"], lib["tag"]) == ("0.1.0", "0.2.0rc1", "lib-v0.2.0rc1")
    assert version_of(repo, "lib") == "0.2.0rc1" == _pep440("0.2.0rc1")
    assert "lib-v0.2.0rc1" in origin_tags(repo.parent)  # pushed with the release commit
    assert plan["by_name"]["core"]["next"] == "1.4.0"  # no commits of its own: untouched

    commit_change(repo, "lib", "fix(lib): close the stream")
    lib = release(run_cli, repo, "--push")["by_name"]["lib"]
    assert (lib["current"], lib["next"]) == ("0.2.0rc1", "0.2.0rc2")
    assert git(repo.parent / "origin.git", "rev-parse", "next") == git(repo, "rev-parse", "HEAD")

    # Nothing new on next: not bumped twice.
    again = bump(run_cli, repo, "--dry-run")["by_name"]["lib"]
    assert again["next"] == "0.2.0rc2"
    assert "nothing to release" in again["reasons"]

    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "next", "-m", "Merge branch 'next'")
    plan = release(run_cli, repo)
    assert plan["channel"] is None
    lib = plan["by_name"]["lib"]
    assert (lib["current"], lib["next"], lib["tag"]) == ("0.2.0rc2", "0.2.0", "lib-v0.2.0")
    assert version_of(repo, "lib") == "0.2.0"
    assert "lib-v0.2.0" in git(repo, "tag", "--list").split()

    # The final release's changelog gathers what its pre-releases shipped.
    changelog = (repo / "packages/lib/CHANGELOG.md").read_text()
    final = changelog.split("## 0.2.0 (", 1)[1]
    assert "streaming reader" in final
    assert "close the stream" in final
    assert "## 0.2.0rc1" not in changelog
    assert "## 0.2.0rc2" not in changelog
    notes = git(repo, "tag", "-l", "--format=%(contents)", "lib-v0.2.0")
    assert "streaming reader" in notes
    assert "close the stream" in notes

    settled = bump(run_cli, repo, "--dry-run")["by_name"]["lib"]
    assert settled["next"] == "0.2.0"
    assert "nothing to release" in settled["reasons"]


def test_breaking_change_on_an_rc_moves_the_base_and_dependents_admit_it(
    repo: Path, run_cli: Callable[..., Any]
) -> None:
    git(repo, "checkout", "-q", "-b", "next")
    commit_change(repo, "core", "feat(core): batch API")
    plan = release(run_cli, repo)["by_name"]
    assert plan["core"]["next"] == "1.5.0rc1"
    # app's ">=1.4,<2" admits 1.5.0rc1 only on paper: pip would not pick a pre-release
    # for it, so it moves to a range that names one; app follows as a pre-release too.
    assert plan["app"]["next"] == "0.5.1rc1"
    app = (repo / "packages/app/pyproject.toml").read_text()
    assert '"core>=1.5.0rc1,<2"' in app

    commit_change(repo, "core", "feat(core): batch sizes")
    assert release(run_cli, repo)["by_name"]["core"]["next"] == "1.5.0rc2"

    commit_change(repo, "core", "feat(core)!: drop the legacy client")
    plan = release(run_cli, repo)["by_name"]
    assert (plan["core"]["current"], plan["core"]["next"]) == ("1.5.0rc2", "2.0.0rc1")
    assert plan["app"]["next"] == "0.5.1rc3"  # it followed rc1 and rc2 of core already
    assert '"core>=2.0.0rc1,<3.0.0"' in (repo / "packages/app/pyproject.toml").read_text()

    commit_change(repo, "core", "fix(core): retry")
    assert release(run_cli, repo)["by_name"]["core"]["next"] == "2.0.0rc2"

    git(repo, "checkout", "-q", "main")
    git(repo, "merge", "-q", "--no-ff", "next", "-m", "Merge branch 'next'")
    plan = release(run_cli, repo)["by_name"]
    assert (plan["core"]["next"], plan["app"]["next"]) == ("2.0.0", "0.5.1")
    changelog = (repo / "packages/core/CHANGELOG.md").read_text()
    final = changelog.split("## 2.0.0 (", 1)[1]
    for subject in ("batch API", "batch sizes", "drop the legacy client", "retry"):
        assert subject in final
    assert "## 2.0.0rc" not in changelog
    assert "## 1.5.0rc" not in changelog


def test_zero_x_breaking_change_stays_a_minor_and_beta_globs_share_a_counter(
    repo: Path, run_cli: Callable[..., Any]
) -> None:
    git(repo, "checkout", "-q", "-b", "beta/new-api")
    commit_change(repo, "lib", "feat(lib)!: new API")
    plan = release(run_cli, repo)
    assert plan["channel"]["name"] == "beta"
    assert plan["channel"]["branch"] == "beta/new-api"
    assert plan["by_name"]["lib"]["next"] == "0.2.0b1"  # 0.x: breaking is a minor

    # Another branch of the channel, from main: its tag does not reach this branch, yet
    # the counter goes on from it rather than making lib-v0.2.0b1 twice.
    git(repo, "checkout", "-q", "-b", "beta/other", "main")
    commit_change(repo, "lib", "feat(lib): other idea")
    assert release(run_cli, repo)["by_name"]["lib"]["next"] == "0.2.0b2"


def test_detached_head_in_ci_uses_the_branch_the_ci_names(
    repo: Path, run_cli: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    git(repo, "checkout", "-q", "-b", "next")
    commit_change(repo, "lib", "feat(lib): streaming reader")
    git(repo, "checkout", "-q", "--detach", "HEAD")
    # Without a branch name a detached HEAD is on no channel: final versions.
    assert bump(run_cli, repo, "--dry-run")["by_name"]["lib"]["next"] == "0.2.0"

    monkeypatch.setenv("GITLAB_CI", "true")
    monkeypatch.setenv("CI_COMMIT_REF_NAME", "next")
    plan = bump(run_cli, repo, "--dry-run")
    assert plan["channel"]["branch"] == "next"
    assert plan["by_name"]["lib"]["next"] == "0.2.0rc1"

    monkeypatch.delenv("GITLAB_CI")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_REF_NAME", "beta/x")
    assert bump(run_cli, repo, "--dry-run")["by_name"]["lib"]["next"] == "0.2.0b1"

    monkeypatch.delenv("GITHUB_ACTIONS")
    monkeypatch.setenv("JENKINS_URL", "http://jenkins.invalid/")
    monkeypatch.setenv("GIT_BRANCH", "origin/next")
    assert bump(run_cli, repo, "--dry-run")["by_name"]["lib"]["next"] == "0.2.0rc1"


def test_pre_on_the_command_line_and_a_channel_that_disagrees(
    repo: Path, run_cli: Callable[..., Any]
) -> None:
    commit_change(repo, "lib", "feat(lib): streaming reader")
    # Off any channel --pre works as before.
    assert bump(run_cli, repo, "--pre", "a", "--dry-run")["by_name"]["lib"]["next"] == "0.2.0a1"
    git(repo, "checkout", "-q", "-b", "next")
    assert bump(run_cli, repo, "--pre", "rc", "--dry-run")["by_name"]["lib"]["next"] == "0.2.0rc1"
    before = git(repo, "status", "--porcelain")
    refused = run_cli("version", "bump", "--pre", "b", cwd=repo)
    assert refused.exit_code == 2
    assert "--pre b disagrees" in refused.stderr
    assert "channel 'next'" in refused.stderr
    assert "pyproject.toml" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert git(repo, "status", "--porcelain") == before


def test_a_later_label_cannot_go_back(repo: Path, run_cli: Callable[..., Any]) -> None:
    git(repo, "checkout", "-q", "-b", "next")
    commit_change(repo, "lib", "feat(lib): streaming reader")
    release(run_cli, repo)
    git(repo, "checkout", "-q", "-b", "beta/late")
    commit_change(repo, "lib", "fix(lib): late fix")
    refused = run_cli("version", "bump", "--dry-run", cwd=repo)
    assert refused.exit_code == 2
    assert "from 0.2.0rc1 down to 0.2.0b1" in refused.stderr


@pytest.mark.parametrize(
    ("channels", "expect"),
    [
        ('next = { branch = "next", prerelase = "rc" }', ("'prerelase'", "`prerelease`")),
        ('next = { branch = "next", prerelease = "beta" }', ("channels.next.prerelease", '"b"')),
        ('next = { prerelease = "rc" }', ("tool.poetflow.channels.next.branch is missing",)),
        ('next = "rc"', ("tool.poetflow.channels.next must be a table",)),
        ('next = { branch = "refs/heads/next", prerelease = "rc" }', ('For example "next"',)),
        ('next = { branch = "", prerelease = "rc" }', ("channels.next.branch",)),
    ],
)
def test_a_bad_channel_entry_is_refused_at_load(
    tmp_path: Path, run_cli: Callable[..., Any], channels: str, expect: tuple[str, ...]
) -> None:
    root = build_channel_repo(tmp_path)
    config = root / "pyproject.toml"
    text = config.read_text().split("[tool.poetflow.channels]", 1)[0]
    config.write_text(text + "[tool.poetflow.channels]\n" + channels + "\n")
    for command in (("discover",), ("version", "bump", "--dry-run")):
        result = run_cli(*command, cwd=root)
        assert result.exit_code == 2, (command, result.stdout)
        assert str(config) in result.stderr or "pyproject.toml" in result.stderr
        for piece in expect:
            assert piece in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_two_patterns_matching_one_branch_is_an_error(
    tmp_path: Path, run_cli: Callable[..., Any]
) -> None:
    root = build_channel_repo(tmp_path, extra_config="")
    config = root / "pyproject.toml"
    config.write_text(config.read_text() + 'wide = { branch = "beta/**", prerelease = "a" }\n')
    git(root, "checkout", "-q", "-b", "beta/x")
    result = run_cli("version", "bump", "--dry-run", cwd=root)
    assert result.exit_code == 2
    assert "'beta/x' matches two entries" in result.stderr
    assert "'beta'" in result.stderr
    assert "'wide'" in result.stderr


@pytest.mark.parametrize(
    ("current", "level", "last_final", "known", "expected"),
    [
        ("0.1.0", "minor", "0.1.0", [], "0.2.0rc1"),
        ("0.2.0rc1", "minor", "0.1.0", ["0.2.0rc1"], "0.2.0rc2"),
        ("1.5.0rc2", "major", "1.4.0", ["1.5.0rc1", "1.5.0rc2"], "2.0.0rc1"),
        ("2.0.0rc1", "patch", "1.4.0", ["2.0.0rc1", "2.0.0rc3"], "2.0.0rc4"),
        ("1.5.0rc1", "minor", None, [], "1.5.0rc2"),  # untagged rc1 still counts
        ("1.4.1", "patch", "1.4.0", [], "1.4.2rc1"),  # an untagged final is the floor
        ("1.5.0b2", "minor", "1.4.0", [], "1.5.0rc1"),  # a new label starts at 1
    ],
)
def test_channel_arithmetic(
    current: str, level: Any, last_final: str | None, known: list[str], expected: str
) -> None:
    got = channel_prerelease(current, "rc", level=level, last_final=last_final, known=known)
    assert got == expected == _pep440(got)


def test_counter_continues_only_within_its_release_and_label() -> None:
    assert continue_counter("2.0.0rc1", ["2.0.0b7", "1.9.0rc4", "2.0.0rc2"]) == "2.0.0rc3"
    assert continue_counter("2.0.0", ["2.0.0rc2"]) == "2.0.0"


def test_a_final_fix_merged_from_main_makes_the_next_rc(
    repo: Path, run_cli: Callable[..., Any]
) -> None:
    git(repo, "checkout", "-q", "-b", "next")
    commit_change(repo, "core", "feat(core): batch API")
    assert release(run_cli, repo)["by_name"]["core"]["next"] == "1.5.0rc1"
    git(repo, "checkout", "-q", "main")
    (repo / "packages/core/src/core/hotfix.py").write_text("# fix\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "fix(core): hotfix")
    assert release(run_cli, repo)["by_name"]["core"]["next"] == "1.4.1"
    git(repo, "checkout", "-q", "next")
    # The versions and changelogs conflict; next keeps its own, as a team would.
    git(repo, "merge", "-q", "-X", "ours", "main", "-m", "Merge branch 'main' into next")
    core = bump(run_cli, repo, "--dry-run")["by_name"]["core"]
    assert (core["current"], core["next"]) == ("1.5.0rc1", "1.5.0rc2")


def test_a_channel_naming_the_branch_wins_over_a_pattern() -> None:
    beta = Channel("beta", "beta/*", "b")
    special = Channel("special", "beta/special", "rc")
    assert select_channel((beta, special), "beta/special") == special
    assert select_channel((beta, special), "beta/other") == beta
    assert select_channel((beta, special), "Beta/other") is None  # case-sensitive, like git
    assert select_channel((beta, special), None) is None


def test_synchronized_versioning_on_a_channel(tmp_path: Path, run_cli: Callable[..., Any]) -> None:
    root = build_channel_repo(tmp_path, extra_config='versioning = "synchronized"\n')
    for name in ("lib", "core", "app"):
        path = root / "packages" / name / "pyproject.toml"
        text = path.read_text()
        old = text.split('version = "', 1)[1].split('"', 1)[0]
        path.write_text(text.replace(f'version = "{old}"', 'version = "1.4.0"', 1))
    git(root, "commit", "-qam", "chore: one version")
    git(root, "tag", "-a", "v1.4.0", "-m", "v1.4.0")
    git(root, "checkout", "-q", "-b", "next")
    commit_change(root, "lib", "feat(lib): streaming reader")
    plan = release(run_cli, root)
    assert {entry["next"] for entry in plan["packages"]} == {"1.5.0rc1"}
    assert "v1.5.0rc1" in git(root, "tag", "--list").split()
    commit_change(root, "core", "fix(core): retry")
    plan = release(run_cli, root)
    assert {entry["next"] for entry in plan["packages"]} == {"1.5.0rc2"}
