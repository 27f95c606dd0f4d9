"""``poetflow release-pr`` against the GitHub and GitLab doubles, with real git: one pull
request opened, then updated; merged with git (merge commit, squash); ``poetflow run`` on
the result tags and publishes exactly the pull request's versions to a real pypiserver."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.conftest import CliResult, git, tree_state
from tests.hosting_doubles import GitHubDouble, GitLabDouble
from tests.index_server import IndexServer, start_index_server

RunCli = Callable[..., CliResult]
GITHUB_TOKEN = "ghs_" + "Re1easePr" * 4
GITLAB_TOKEN = "glpat-" + "Re1easeMr" * 3
BRANCH = "poetflow/release"
FIRST = {"acme-core": "1.3.0", "acme-http": "0.4.2", "acme-storage": "2.0.4", "acme-app": "0.9.1"}
# After a second feature in acme-http: its own minor bump outranks the dependency patch.
SECOND = {**FIRST, "acme-http": "0.5.0"}


@pytest.fixture
def index(tmp_path: Path) -> Iterator[IndexServer]:
    server = start_index_server(tmp_path / "index")
    yield server
    server.stop()


@pytest.fixture
def origin(demo_repo: Path, tmp_path: Path, index: IndexServer) -> Path:
    """The demo with a feature in acme-core, an index to publish to, pushed to a bare
    ``origin`` (what the host holds)."""
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(demo_repo, "remote", "add", "origin", str(remote))
    pyproject = demo_repo / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + f'\n[tool.poetflow.repositories.local]\nurl = "{index.url}"\n'
    )
    git(demo_repo, "add", "-A")
    git(demo_repo, "commit", "-q", "-m", "chore: publish to the local index")
    _commit(demo_repo, "core", "rates.py", "feat(core): exchange rates")
    return demo_repo


def _commit(root: Path, package: str, name: str, message: str) -> None:
    source = next((root / "packages" / package / "src").iterdir())
    (source / name).write_text(f"# {message}\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    git(root, "push", "-q", "origin", "HEAD:main")


def _env(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for key, value in values.items():
        monkeypatch.setenv(key, value)


def _leaks(result: CliResult, *secrets: str) -> list[str]:
    return [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if any(secret in line for secret in secrets) and not line.startswith("::add-mask::")
    ]


def _release_pr(run_cli: RunCli, root: Path, *args: str) -> dict[str, object]:
    result = run_cli("release-pr", "--json", *args, cwd=root)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert not _leaks(result, GITHUB_TOKEN, GITLAB_TOKEN)
    report: dict[str, object] = json.loads(result.stdout)
    return report


def _versions_on(root: Path, ref: str) -> dict[str, str]:
    found = {}
    for folder in ("core", "http", "storage", "app"):
        text = git(root, "show", f"{ref}:packages/{folder}/pyproject.toml")
        name = re.search(r'^name = "([^"]+)"', text, re.M)
        version = re.search(r'^version = "([^"]+)"', text, re.M)
        assert name
        assert version
        found[name.group(1).replace("_", "-")] = version.group(1)
    return found


def _wheels(index: IndexServer) -> dict[str, str]:
    wheels = {}
    for name in index.files():
        if name.endswith(".whl"):
            dist, version = name.split("-")[:2]
            wheels[dist.replace("_", "-")] = version
    return wheels


def _open_twice(run_cli: RunCli, root: Path) -> dict[str, object]:
    """release-pr, a new feature on main, release-pr again: the second report."""
    head = git(root, "rev-parse", "HEAD")
    first = _release_pr(run_cli, root)
    assert first["action"] == "created"
    assert {r["name"]: r["next"] for r in first["releases"]} == FIRST  # type: ignore[union-attr]
    # The release went to the branch, not into the work tree or onto main.
    remote = root.parent / "origin.git"
    assert git(root, "status", "--porcelain") == ""
    assert git(root, "rev-parse", "HEAD") == head == git(remote, "rev-parse", "main")
    assert _versions_on(remote, BRANCH) == FIRST

    _commit(root, "http", "retry.py", "feat(http): retries")
    second = _release_pr(run_cli, root)
    assert second["action"] == "updated"
    assert second["number"] == first["number"]
    assert {r["name"]: r["next"] for r in second["releases"]} == SECOND  # type: ignore[union-attr]
    pushed = git(remote, "rev-parse", BRANCH)
    assert pushed == second["commit"]
    # One commit on top of main as it is now, holding the whole plan.
    assert git(remote, "rev-parse", f"{BRANCH}^") == git(remote, "rev-parse", "main")
    assert _versions_on(remote, BRANCH) == SECOND
    files = git(remote, "diff", "--name-only", "main", BRANCH).split()
    assert "packages/http/CHANGELOG.md" in files
    assert "packages/app/pyproject.toml" in files
    message = git(remote, "log", "-1", "--format=%B", BRANCH)
    assert f"Release-Plan: {second['plan']}" in message
    return second


def _github_merge(root: Path, github: GitHubDouble, number: int, style: str) -> None:
    """What pressing the button does: git merges the branch into main, GitHub marks it."""
    git(root, "fetch", "-q", "origin")
    pull = github.pulls[number]
    if style == "merge":
        git(
            root, "merge", "-q", "--no-ff", f"origin/{BRANCH}",
            "-m", f"Merge pull request #{number} from acme/{BRANCH}\n\n{pull['title']}",
        )  # fmt: skip
    else:
        git(root, "merge", "-q", "--squash", f"origin/{BRANCH}")
        # GitHub's squash message: the title with the number, then the commit's message.
        body = git(root, "log", "-1", "--format=%b", f"origin/{BRANCH}")
        git(root, "commit", "-q", "-m", f"{pull['title']} (#{number})", "-m", body)
    git(root, "push", "-q", "origin", "HEAD:main")
    github.mark_merged(number)


@pytest.mark.slow
@pytest.mark.parametrize("style", ["merge", "squash"])
def test_github_release_pr_is_opened_updated_and_merged_run_publishes_its_versions(
    origin: Path,
    index: IndexServer,
    run_cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    style: str,
) -> None:
    with GitHubDouble.running(token=GITHUB_TOKEN) as github:
        _env(monkeypatch, github.environment())
        second = _open_twice(run_cli, origin)

        assert len(github.pulls) == 1
        pull = github.pulls[1]
        assert pull["state"] == "open"
        assert (pull["head"], pull["base"]) == (BRANCH, "main")
        assert "acme-http 0.5.0" in pull["title"]
        assert "| acme-http | 0.4.1 → 0.5.0 |" in pull["body"]
        assert "retries" in pull["body"]
        assert "exchange rates" in pull["body"]
        assert f"Release-Plan: {second['plan']}" in pull["body"]
        listed = github.requests("GET", "/repos/acme/demo/pulls")
        assert listed
        assert all(r.query["head"] == f"acme:{BRANCH}" for r in listed)
        assert all(r.query["state"] == "open" for r in listed)
        assert [r.method for r in github.writes()] == ["POST", "PATCH"]

        _github_merge(origin, github, 1, style)
        landed = git(origin, "rev-parse", "HEAD")
        monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_USERNAME", index.username)
        monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_PASSWORD", index.password)
        writes = len(github.writes())
        dry = run_cli("run", "--skip", "test", "--repository", "local", "--push", "--dry-run",
                      "--json", cwd=origin)  # fmt: skip
        assert dry.exit_code == 0, dry.stdout + dry.stderr
        planned = {s["name"]: s for s in json.loads(dry.stdout)["stages"]}
        assert "would tag" in planned["release"]["detail"]
        assert not git(origin, "tag", "--list")
        assert len(github.writes()) == writes
        assert index.files() == []
        ran = run_cli(
            "run", "--skip", "test", "--repository", "local", "--push", "--json", cwd=origin
        )
        assert ran.exit_code == 0, ran.stdout + ran.stderr
        assert not _leaks(ran, GITHUB_TOKEN, index.password)
        report = json.loads(ran.stdout)
        stages = {s["name"]: s for s in report["stages"]}
        assert "not bumped again" in stages["version"]["detail"]

        # No second bump: no new commit, the work tree's versions are the pull request's.
        assert git(origin, "rev-parse", "HEAD") == landed
        assert _versions_on(origin, "HEAD") == SECOND
        tags = {f"{name}-v{version}" for name, version in SECOND.items()}
        assert tags <= set(git(origin, "tag", "--list").split())
        for tag in tags:
            assert git(origin, "rev-parse", f"{tag}^{{commit}}") == landed
        remote_tags = git(origin.parent / "origin.git", "tag", "--list").split()
        assert tags <= set(remote_tags)
        assert _wheels(index) == SECOND
        assert sorted(r["tag_name"] for r in github.releases.values()) == sorted(tags)

        # Nothing left to release: no pull request is open, none is made.
        writes = len(github.writes())
        after = _release_pr(run_cli, origin)
        assert after["action"] == "nothing to do"
        assert len(github.writes()) == writes
        assert len(github.pulls) == 1


@pytest.mark.slow
def test_github_release_pr_closes_with_a_comment_when_nothing_is_left_to_release(
    origin: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with GitHubDouble.running(token=GITHUB_TOKEN) as github:
        _env(monkeypatch, github.environment())
        made = _release_pr(run_cli, origin)
        assert made["action"] == "created"
        # The run report of the command is one every CI reads (the report schema).
        import jsonschema

        import poetflow

        schema_path = Path(poetflow.__file__).parent / "schemas" / "report.schema.json"
        written = json.loads((origin / ".poetflow" / "poetflow-report.json").read_text())
        jsonschema.validate(written, json.loads(schema_path.read_text()))
        assert written["command"].startswith("poetflow release-pr")
        # Nothing new on main: the same commit, nothing to change on the pull request.
        again = _release_pr(run_cli, origin)
        assert again["action"] == "up to date"
        assert again["commit"] == made["commit"]
        dry = _release_pr(run_cli, origin, "--dry-run")
        assert dry["action"] == "would update"
        assert [r.method for r in github.writes()] == ["POST"]

        # The versions were released another way (bump, tag, push on main).
        bumped = run_cli("version", "bump", "--commit", "--tag", cwd=origin)
        assert bumped.exit_code == 0, bumped.stderr
        closed = _release_pr(run_cli, origin)
        assert closed["action"] == "closed"
        assert github.pulls[1]["state"] == "closed"
        assert len(github.comments) == 1
        assert github.comments[0]["issue"] == 1
        assert "Nothing to release" in github.comments[0]["body"]


@pytest.mark.slow
def test_gitlab_merge_request_is_updated_then_squashed_and_run_publishes_it(
    origin: Path, index: IndexServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with GitLabDouble.running(token=GITLAB_TOKEN) as gitlab:
        _env(monkeypatch, {**gitlab.environment(job=False), "CI_COMMIT_BRANCH": "main"})
        before = tree_state(origin)
        dry = _release_pr(run_cli, origin, "--dry-run")
        assert dry["action"] == "would create"
        assert not gitlab.writes()
        assert tree_state(origin) == before
        assert BRANCH not in git(origin.parent / "origin.git", "branch", "--list")

        _open_twice(run_cli, origin)
        assert len(gitlab.merge_requests) == 1
        mr = gitlab.merge_requests[1]
        assert (mr["source_branch"], mr["target_branch"], mr["state"]) == (BRANCH, "main", "opened")
        assert "acme-http 0.5.0" in mr["title"]
        assert "retries" in mr["description"]
        listed = gitlab.requests("GET", "/api/v4/projects/1217/merge_requests")
        wanted = {"source_branch": BRANCH, "state": "opened"}
        assert all(r.query == {**r.query, **wanted} for r in listed)
        assert [r.method for r in gitlab.writes()] == ["POST", "PUT"]
        assert all(r.header("private-token") == GITLAB_TOKEN for r in gitlab.requests())

        # GitLab squashes with git's default message of the squashed commits (indented).
        git(origin, "fetch", "-q", "origin")
        git(origin, "merge", "-q", "--squash", f"origin/{BRANCH}")
        squash = (origin / ".git" / "SQUASH_MSG").read_text()
        git(origin, "commit", "-q", "-m", squash)
        gitlab.mark_merged(1)
        landed = git(origin, "rev-parse", "HEAD")

        monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_USERNAME", index.username)
        monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_PASSWORD", index.password)
        ran = run_cli("run", "--skip", "test,announce", "--repository", "local", cwd=origin)
        assert ran.exit_code == 0, ran.stdout + ran.stderr
        assert git(origin, "rev-parse", "HEAD") == landed
        assert _wheels(index) == SECOND
        for name, version in SECOND.items():
            assert git(origin, "rev-parse", f"{name}-v{version}^{{commit}}") == landed
        assert not _leaks(ran, GITLAB_TOKEN, index.password)


def _one_error(result: CliResult) -> str:
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_release_pr_without_a_code_host_is_bad_input_and_pushes_nothing(
    origin: Path, run_cli: RunCli
) -> None:
    for args in ((), ("--dry-run",)):
        result = run_cli("release-pr", *args, cwd=origin)
        assert "no code host" in _one_error(result)
    assert not git(origin.parent / "origin.git", "branch", "--list", BRANCH)
    assert not git(origin, "branch", "--list", BRANCH)


def test_release_pr_on_a_detached_head_needs_a_base(
    origin: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with GitHubDouble.running(token=GITHUB_TOKEN) as github:
        _env(monkeypatch, {**github.environment(), "GITHUB_REF_NAME": ""})
        git(origin, "checkout", "-q", "--detach", "HEAD")
        assert "--base" in run_cli("release-pr", cwd=origin).stderr
        _one_error(run_cli("release-pr", cwd=origin))
        assert not github.requests()
        made = _release_pr(run_cli, origin, "--base", "main")
        assert made["action"] == "created"
        assert github.pulls[1]["base"] == "main"


def test_a_refused_token_fails_the_command_without_showing_it(
    origin: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with GitHubDouble.running(token=GITHUB_TOKEN) as github:
        _env(monkeypatch, {**github.environment(), "GITHUB_TOKEN": GITHUB_TOKEN + "x"})
        result = run_cli("release-pr", cwd=origin)
        assert result.exit_code == 1, result.stdout + result.stderr
        assert "401" in result.stderr
        assert not _leaks(result, GITHUB_TOKEN)
        assert not github.writes()
        assert not git(origin.parent / "origin.git", "branch", "--list", BRANCH)
        debug = run_cli("release-pr", "--log-level", "debug", "--log-format", "json", cwd=origin)
        assert debug.exit_code == 1
        assert not _leaks(debug, GITHUB_TOKEN)


def test_release_pr_without_an_origin_is_refused_in_a_dry_run_too(
    origin: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(origin, "remote", "remove", "origin")
    with GitHubDouble.running(token=GITHUB_TOKEN) as github:
        _env(monkeypatch, github.environment())
        for args in ((), ("--dry-run",)):
            assert "no remote 'origin'" in _one_error(run_cli("release-pr", *args, cwd=origin))
        assert not github.requests()


def test_a_gitlab_job_token_alone_is_refused_before_anything_is_pushed(
    origin: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    with GitLabDouble.running(token=GITLAB_TOKEN) as gitlab:
        _env(monkeypatch, {**gitlab.environment(job=True), "CI_COMMIT_BRANCH": "main"})
        for args in ((), ("--dry-run",)):
            result = run_cli("release-pr", *args, cwd=origin)
            assert "GITLAB_TOKEN" in _one_error(result)
            assert not _leaks(result, gitlab.job_token)
        assert not gitlab.writes()
        assert not git(origin.parent / "origin.git", "branch", "--list", BRANCH)


@pytest.mark.slow
def test_a_synchronized_release_pr_lands_as_one_tag(
    origin: Path, index: IndexServer, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    pyproject = origin / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('versioning = "independent"', 'versioning = "synchronized"')
        .replace('tag-format = "{name}-v{version}"\n', "")
    )  # fmt: skip
    git(origin, "commit", "-q", "-am", "chore: one version for all")
    git(origin, "push", "-q", "origin", "HEAD:main")
    with GitHubDouble.running(token=GITHUB_TOKEN) as github:
        _env(monkeypatch, github.environment())
        made = _release_pr(run_cli, origin)
        versions = {r["next"] for r in made["releases"]}  # type: ignore[union-attr]
        (version,) = versions
        _github_merge(origin, github, 1, "squash")
    monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_USERNAME", index.username)
    monkeypatch.setenv("POETFLOW_REPOSITORY_LOCAL_PASSWORD", index.password)
    landed = git(origin, "rev-parse", "HEAD")
    ran = run_cli("run", "--skip", "test,announce", "--repository", "local", cwd=origin)
    assert ran.exit_code == 0, ran.stdout + ran.stderr
    assert git(origin, "tag", "--points-at", landed).split() == [f"v{version}"]
    assert set(_wheels(index).values()) == {version}
    assert len(_wheels(index)) == 4
