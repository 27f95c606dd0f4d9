"""``poetflow run`` and ``poetflow announce`` against the GitHub and GitLab doubles: real git,
real builds, one release per new tag, nothing new on a rerun, no token in any output."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.conftest import CliResult, git, tree_state
from tests.hosting_doubles import GitHubDouble, GitLabDouble

RunCli = Callable[..., CliResult]
STAGES = "version,build,release,announce"
TAGS = ["acme-app-v0.9.1", "acme-core-v1.3.0", "acme-http-v0.4.2", "acme-storage-v2.0.4"]
GITHUB_TOKEN = "ghs_" + "An0unce" * 5
JOB_TOKEN = "glcbt-" + "j0bT0ken" * 3


@pytest.fixture
def github() -> Iterator[GitHubDouble]:
    with GitHubDouble.running(token=GITHUB_TOKEN) as double:
        yield double


@pytest.fixture
def gitlab() -> Iterator[GitLabDouble]:
    with GitLabDouble.running(job_token=JOB_TOKEN) as double:
        yield double


@pytest.fixture
def feature(demo_repo: Path, tmp_path: Path) -> Path:
    """The demo with a new feature in acme-core (four packages to release) and an origin
    to push the release to: a host makes releases of the tags it has."""
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(demo_repo, "remote", "add", "origin", str(remote))
    (demo_repo / "packages" / "core" / "src" / "acme_core" / "rates.py").write_text("RATE = 1\n")
    git(demo_repo, "add", "-A")
    git(demo_repo, "commit", "-q", "-m", "feat(core): exchange rates")
    git(demo_repo, "push", "-q", "origin", "main")
    return demo_repo


def _env(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def _leaks(result: CliResult, *secrets: str) -> list[str]:
    """Lines that show a secret, apart from the ``::add-mask::`` commands that tell
    GitHub Actions to hide it."""
    return [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if any(secret in line for secret in secrets) and not line.startswith("::add-mask::")
    ]


def _dist_files(root: Path) -> set[str]:
    return {
        path.name
        for path in root.glob("packages/*/dist/*")
        if path.name.endswith((".whl", ".tar.gz"))
    }


@pytest.mark.slow
def test_run_makes_one_github_release_per_new_tag_and_a_rerun_nothing_new(
    feature: Path, github: GitHubDouble, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, github.environment())
    result = run_cli("run", "--stages", STAGES, "--push", "--json", cwd=feature)
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    announce = next(stage for stage in report["stages"] if stage["name"] == "announce")
    assert announce["status"] == "succeeded", announce
    assert "4 created" in announce["detail"]

    releases = {r["tag_name"]: r for r in github.releases.values()}
    assert sorted(releases) == TAGS
    core = releases["acme-core-v1.3.0"]
    assert core["name"] == "acme-core-v1.3.0"
    assert core["target_commitish"] == git(feature, "rev-parse", "acme-core-v1.3.0^{commit}")
    assert not core["prerelease"]
    assert not core["draft"]
    # The body is the changelog section of that version, as CHANGELOG.md has it.
    assert "exchange rates" in core["body"]
    assert "### Features" in core["body"]
    changelog = (feature / "packages" / "core" / "CHANGELOG.md").read_text()
    assert core["body"].strip() in changelog
    dependents = releases["acme-app-v0.9.1"]["body"]
    assert "acme-http" in dependents  # released because of its dependencies: it says which
    assets = sorted(a["name"] for a in github.assets.values())
    assert assets == sorted(_dist_files(feature))
    assert len(assets) == 8
    core_assets = [a["name"] for a in github.assets.values() if a["release_id"] == core["id"]]
    assert sorted(core_assets) == ["acme_core-1.3.0-py3-none-any.whl", "acme_core-1.3.0.tar.gz"]
    assert not _leaks(result, GITHUB_TOKEN)

    writes = len(github.writes())
    again = run_cli("announce", cwd=feature)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert again.stdout.count("up to date") == 4
    rerun = run_cli("run", "--stages", STAGES, "--push", "--json", cwd=feature)
    assert rerun.exit_code == 0, rerun.stdout + rerun.stderr
    stage = next(s for s in json.loads(rerun.stdout)["stages"] if s["name"] == "announce")
    assert stage["detail"] == "github: 4 up to date"
    assert len(github.writes()) == writes
    assert len(github.releases) == 4
    assert len(github.assets) == 8
    assert not _leaks(again, GITHUB_TOKEN)
    assert not _leaks(rerun, GITHUB_TOKEN)
    # Every call carried the token the GitHub way, and only to the double.
    assert all(r.header("authorization") == f"Bearer {GITHUB_TOKEN}" for r in github.requests())


@pytest.mark.slow
def test_run_makes_gitlab_releases_with_the_job_token_and_a_rerun_nothing_new(
    feature: Path, gitlab: GitLabDouble, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, gitlab.environment(job=True))
    result = run_cli("run", "--stages", STAGES, "--push", cwd=feature)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert sorted(gitlab.releases) == TAGS
    core = gitlab.releases["acme-core-v1.3.0"]
    assert core["name"] == "acme-core-v1.3.0"
    assert "exchange rates" in core["description"]
    changelog = (feature / "packages" / "core" / "CHANGELOG.md").read_text()
    assert core["description"].strip() in changelog
    stored = sorted(f["file_name"] for f in gitlab.package_files.values())
    assert stored == sorted(_dist_files(feature))
    linked = sorted(
        link["name"] for link in gitlab.links.values() if link["tag"] == core["tag_name"]
    )
    assert linked == ["acme_core-1.3.0-py3-none-any.whl", "acme_core-1.3.0.tar.gz"]
    packages = {(p["name"], p["version"]) for p in gitlab.packages.values()}
    assert ("acme-core", "1.3.0") in packages
    assert all(r.header("job-token") == JOB_TOKEN for r in gitlab.requests())
    assert not _leaks(result, JOB_TOKEN)

    writes = len(gitlab.writes())
    again = run_cli("announce", "--json", cwd=feature)
    assert again.exit_code == 0, again.stdout + again.stderr
    statuses = [r["status"] for r in json.loads(again.stdout)["releases"]]
    assert statuses == ["up to date"] * 4
    rerun = run_cli("run", "--stages", STAGES, "--push", cwd=feature)
    assert rerun.exit_code == 0, rerun.stdout + rerun.stderr
    assert len(gitlab.writes()) == writes
    assert not _leaks(again, JOB_TOKEN)
    assert not _leaks(rerun, JOB_TOKEN)


@pytest.mark.slow
def test_a_dry_run_previews_the_releases_and_writes_nothing(
    feature: Path, github: GitHubDouble, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, github.environment())
    before = tree_state(feature)
    result = run_cli("run", "--stages", STAGES, "--push", "--dry-run", "--json", cwd=feature)
    assert result.exit_code == 0, result.stdout + result.stderr
    stage = next(s for s in json.loads(result.stdout)["stages"] if s["name"] == "announce")
    assert stage["detail"] == "github: 4 would create"
    assert github.writes() == []
    assert tree_state(feature) == before
    assert not _leaks(result, GITHUB_TOKEN)


@pytest.mark.slow
def test_tags_that_were_not_pushed_are_not_announced(
    feature: Path, github: GitHubDouble, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, github.environment())
    result = run_cli("run", "--stages", STAGES, "--json", cwd=feature)
    assert result.exit_code == 0, result.stdout + result.stderr
    stage = next(s for s in json.loads(result.stdout)["stages"] if s["name"] == "announce")
    assert stage["status"] == "skipped"
    assert "--push" in stage["detail"]
    assert github.requests() == []


def test_announce_retries_after_a_failure_and_waits_out_the_rate_limit(
    demo_repo: Path, github: GitHubDouble, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``poetflow announce`` alone: the current version's tag at HEAD, built files in dist/."""
    from tests.publish.publish_fixtures import build_package

    with (demo_repo / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write(
            "\n[tool.poetflow.hooks]\n"
            'post-announce = ["echo $POETFLOW_ARTIFACTS > announced.txt"]\n'
        )
    git(demo_repo, "commit", "-q", "-am", "chore: a post-announce hook")
    git(demo_repo, "tag", "acme-core-v1.2.0")
    built = build_package(demo_repo / "packages" / "core")
    # Signed: each file's Sigstore bundle beside it goes along.
    wheel = next(path for path in built if path.suffix == ".whl")
    wheel.with_name(wheel.name + ".sigstore.json").write_text('{"mediaType": "bundle"}')
    _env(monkeypatch, github.environment())
    github.throttle(1, "reset")
    result = run_cli("announce", "--package", "acme-core", cwd=demo_repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    (release,) = github.releases.values()
    assert release["tag_name"] == "acme-core-v1.2.0"
    assert {a["name"] for a in github.assets.values()} == {
        "acme_core-1.2.0.tar.gz", "acme_core-1.2.0-py3-none-any.whl",
        "acme_core-1.2.0-py3-none-any.whl.sigstore.json",
    }  # fmt: skip
    assert len(github.requests("GET", "/repos/acme/demo/releases/tags/")) == 2  # one retry
    # The post-announce hook ran in the package folder, told of the files it announced.
    announced = (demo_repo / "packages" / "core" / "announced.txt").read_text()
    assert "acme_core-1.2.0.tar.gz" in announced
    assert not _leaks(result, GITHUB_TOKEN)


def test_a_named_host_without_its_token_is_refused_before_anything_runs(
    feature: Path, run_cli: RunCli
) -> None:
    with (feature / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[tool.poetflow.announce]\nprovider = "github"\n')
    git(feature, "commit", "-q", "-am", "chore: announce on GitHub")
    head = git(feature, "rev-parse", "HEAD")
    result = run_cli("run", "--stages", STAGES, cwd=feature)
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "GITHUB_TOKEN" in result.stderr
    assert "Traceback" not in result.stderr
    # Refused before the version stage: no versions written, no commit, no tag, no build.
    assert git(feature, "rev-parse", "HEAD") == head
    assert git(feature, "tag") == ""
    assert git(feature, "status", "--porcelain", "--untracked-files=all") == ""


def test_a_tag_that_does_not_exist_is_refused(
    demo_repo: Path, github: GitHubDouble, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env(monkeypatch, github.environment())
    result = run_cli("announce", "--tag", "acme-core-v1.2.0", cwd=demo_repo)
    assert result.exit_code == 2
    assert "acme-core-v1.2.0 does not exist" in result.stderr
    assert github.requests() == []


def test_an_unknown_announce_key_is_refused(demo_repo: Path, run_cli: RunCli) -> None:
    with (demo_repo / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[tool.poetflow.announce]\nprovder = "github"\n')
    result = run_cli("announce", cwd=demo_repo)
    assert result.exit_code == 2
    assert "provder" in result.stderr
    assert "provider" in result.stderr


def test_without_a_code_host_announce_is_skipped_locally(demo_repo: Path, run_cli: RunCli) -> None:
    git(demo_repo, "tag", "acme-core-v1.2.0")
    result = run_cli("announce", cwd=demo_repo)
    assert result.exit_code == 0, result.stderr
    assert "Nothing announced" in result.stderr


@pytest.mark.slow
def test_a_synchronized_release_is_one_release_with_the_consolidated_notes(
    feature: Path, github: GitHubDouble, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    (feature / "pyproject.toml").write_text(
        '[tool.poetflow]\npackages = ["packages/*"]\nversioning = "synchronized"\n'
    )
    git(feature, "commit", "-q", "-am", "chore: one version for all")
    git(feature, "push", "-q", "origin", "main")
    _env(monkeypatch, github.environment())
    result = run_cli("run", "--stages", STAGES, "--push", cwd=feature)
    assert result.exit_code == 0, result.stdout + result.stderr
    (release,) = github.releases.values()
    tag = release["tag_name"]
    assert tag.startswith("v")
    version = tag[1:]
    # As the packages spell their names (acme_http's pyproject.toml says so).
    for name in ("acme-core", "acme_http", "acme-storage", "acme-app"):
        assert f"### {name} {version}" in release["body"]
    assert "exchange rates" in release["body"]
    assert len(github.assets) == 8
    assert not _leaks(result, GITHUB_TOKEN)


def test_a_pre_release_is_marked_and_a_draft_is_found_again(
    demo_repo: Path, github: GitHubDouble, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``draft = true``: GitHub's tag endpoint hides drafts, yet a rerun finds and keeps it."""
    from tests.publish.publish_fixtures import build_package

    pyproject = demo_repo / "packages" / "core" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "1.2.0"', 'version = "1.3.0rc1"'))
    with (demo_repo / "pyproject.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[tool.poetflow.announce]\nprovider = "github"\ndraft = true\n')
    git(demo_repo, "commit", "-q", "-am", "chore: a release candidate, announced as a draft")
    git(demo_repo, "tag", "acme-core-v1.3.0rc1")
    build_package(demo_repo / "packages" / "core")
    # Outside GitHub Actions: the host and its token named by hand.
    monkeypatch.setenv("GITHUB_API_URL", github.api_url)
    monkeypatch.setenv("GITHUB_REPOSITORY", github.repository)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    first = run_cli("announce", "--json", cwd=demo_repo)
    assert first.exit_code == 0, first.stdout + first.stderr
    (release,) = github.releases.values()
    assert (release["draft"], release["prerelease"]) == (True, True)
    writes = len(github.writes())
    again = run_cli("announce", "--json", cwd=demo_repo)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert [r["status"] for r in json.loads(again.stdout)["releases"]] == ["up to date"]
    assert len(github.writes()) == writes
    assert GITHUB_TOKEN not in first.stdout + first.stderr + again.stdout + again.stderr
