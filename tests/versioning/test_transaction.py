"""A release is one transaction: killed anywhere (real SIGKILL), rerun, released exactly once."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.conftest import FIXTURE_WORKSPACES, copy_tree, git, init_repo

from poetflow.lockfile.freshness import lock_is_fresh
from poetflow.tomlfile import read_toml

RELEASE = ("version", "bump", "--all", "--changelog", "--commit", "--tag")
# After feat(core): langchain-core's minor bump on 0.x; every dependent follows with a patch.
EXPECTED = {
    "langchain-core": "0.4.0",
    "langchain-text-splitters": "0.3.3",
    "langchain": "0.3.10",
    "langchain-openai": "0.2.11",
    "langchain-tests": "0.3.5",
}
TAGS = {f"{name}-v{version}" for name, version in EXPECTED.items()}
# Where a release can die: after the journal, after each of many file writes, with
# every file written, with the commit staged but not made, after the commit, and after
# each tag. The last one kills the rollback of an earlier kill.
MOMENTS = [
    "release:journal",
    *(f"release:write@{n}" for n in (1, 2, 3, 5, 7, 9, 11, 13, 15, 18)),
    "release:written",
    "release:staged",
    "release:commit",
    *(f"release:tag@{n}" for n in (1, 2, 3, 4, 5)),
    "release:rollback",
]


def poetflow(
    repo: Path, *args: str, failpoint: str | None = None, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "POETFLOW_FAILPOINT"}
    if failpoint:
        env["POETFLOW_FAILPOINT"] = failpoint
    return subprocess.run(
        [sys.executable, "-m", "poetflow", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The locked langchain-style monorepo with a feature in langchain-core to release."""
    root = tmp_path_factory.mktemp("template")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {
            "GIT_AUTHOR_NAME": "T",
            "GIT_AUTHOR_EMAIL": "t@example.invalid",
            "GIT_COMMITTER_NAME": "T",
            "GIT_COMMITTER_EMAIL": "t@example.invalid",
        }.items():
            patch.setenv(key, value)
        repo = init_repo(copy_tree(FIXTURE_WORKSPACES / "langchain-style", root / "repo"))
        init = repo / "libs/core/src/langchain_core/__init__.py"
        init.write_text(init.read_text() + "RUNNABLE = 1\n")
        git(repo, "commit", "-q", "-am", "feat(core): runnables")
    return repo


def _fresh_copy(template: Path, target: Path) -> Path:
    shutil.copytree(template, target, symlinks=True)
    return target


def _assert_released_once(repo: Path) -> None:
    from poetflow.workspace import load_workspace

    versions = {p.name: p.version for p in load_workspace(repo).packages}
    assert versions == EXPECTED
    subjects = git(repo, "log", "--format=%s").splitlines()
    assert sum(1 for s in subjects if s.startswith("chore(release):")) == 1
    assert subjects[0].startswith("chore(release):")
    assert set(git(repo, "tag", "--points-at", "HEAD").split()) == TAGS
    assert set(git(repo, "tag").split()) == TAGS
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (repo / ".git/poetflow/release.json").exists()
    for lock in repo.rglob("poetry.lock"):
        assert lock_is_fresh(read_toml(lock.parent / "pyproject.toml"), lock), lock


@pytest.mark.slow
@pytest.mark.parametrize("moment", MOMENTS)
def test_killed_release_is_finished_or_undone_by_the_rerun(
    template: Path, tmp_path: Path, moment: str
) -> None:
    repo = _fresh_copy(template, tmp_path / "repo")
    first = "release:write@10" if moment == "release:rollback" else moment
    killed = poetflow(repo, *RELEASE, failpoint=first)
    assert killed.returncode == -9, killed.stderr  # a real SIGKILL, mid-transaction
    assert (repo / ".git/poetflow/release.json").exists()
    if moment == "release:rollback":
        # The next command starts putting the files back and is killed too.
        again = poetflow(repo, "discover", failpoint="release:rollback")
        assert again.returncode == -9, again.stderr

    rerun = poetflow(repo, *RELEASE)
    assert rerun.returncode == 0, rerun.stderr
    assert "Took over a stale repository lock" in rerun.stderr
    committed = moment.startswith(("release:commit", "release:tag"))
    said = "Completed an interrupted release" if committed else "Rolled back an interrupted"
    assert said in rerun.stderr
    _assert_released_once(repo)


def test_a_read_only_command_finishes_an_interrupted_release(
    template: Path, tmp_path: Path
) -> None:
    repo = _fresh_copy(template, tmp_path / "repo")
    assert poetflow(repo, *RELEASE, failpoint="release:tag@2").returncode == -9
    doctor = poetflow(repo, "doctor", "--json")
    assert doctor.returncode == 1
    [finding] = [f for f in json.loads(doctor.stdout)["findings"] if f["check"] == "release"]
    assert "A release was interrupted (`poetflow version bump`" in finding["message"]
    dry = poetflow(repo, "discover", "--dry-run")
    assert dry.returncode == 0
    assert "would be completed" in dry.stderr
    assert (repo / ".git/poetflow/release.json").exists()  # --dry-run changes nothing
    listed = poetflow(repo, "discover", "--json")
    assert listed.returncode == 0, listed.stderr
    assert "added its missing tags" in listed.stderr
    nothing = poetflow(repo, *RELEASE)
    assert nothing.returncode == 0, nothing.stderr
    assert "nothing to release" in nothing.stdout
    _assert_released_once(repo)


def test_two_releases_started_together_one_wins_the_other_changes_nothing(
    template: Path, tmp_path: Path
) -> None:
    repo = _fresh_copy(template, tmp_path / "repo")
    # A real, slow pre-version hook keeps the winner inside its release for a while.
    root = repo / "pyproject.toml"
    root.write_text(root.read_text() + '\n[tool.poetflow.hooks]\npre-version = ["sleep 3"]\n')
    git(repo, "commit", "-q", "-am", "chore: a slow hook")
    env = {k: v for k, v in os.environ.items() if k != "POETFLOW_FAILPOINT"}
    command = [sys.executable, "-m", "poetflow", *RELEASE]
    both = [
        subprocess.Popen(command, cwd=repo, env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    results = [(process.wait(timeout=300), process.communicate()[1]) for process in both]
    codes = sorted(code for code, _err in results)
    assert codes == [0, 2], results
    loser = next(err for code, err in results if code == 2)
    assert "Another PoetFlow release is running" in loser
    assert "pid " in loser
    assert "started " in loser
    assert "nothing was changed" in loser
    subjects = git(repo, "log", "--format=%s").splitlines()
    assert sum(1 for s in subjects if s.startswith("chore(release):")) == 1
    assert set(git(repo, "tag", "--points-at", "HEAD").split()) == TAGS


def test_a_write_failing_midway_puts_every_file_back(template: Path, tmp_path: Path) -> None:
    repo = _fresh_copy(template, tmp_path / "repo")
    # A version file bigger than the process may write (RLIMIT_FSIZE: the kernel refuses
    # the write with EFBIG), after langchain-core's pyproject.toml was written.
    version_file = repo / "libs/core/src/langchain_core/_version.py"
    version_file.write_text('"""' + "padding " * 8000 + '"""\n__version__ = "0.3.21"\n')
    pyproject = repo / "libs/core/pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + '\n[tool.poetflow]\nversion-files = ["src/langchain_core/_version.py"]\n'
    )
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "chore: a version file")
    head = git(repo, "rev-parse", "HEAD")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (40_000, 40_000))

    failed = poetflow(repo, *RELEASE, preexec_fn=limit)
    assert failed.returncode == 1, failed.stderr
    assert "_version.py: File too large; every file PoetFlow had changed was restored" in (
        failed.stderr
    )
    assert "Traceback" not in failed.stderr
    assert git(repo, "rev-parse", "HEAD") == head
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (repo / ".git/poetflow/release.json").exists()
    assert git(repo, "tag") == ""


def test_the_lock_file_names_its_holder(template: Path, tmp_path: Path) -> None:
    repo = _fresh_copy(template, tmp_path / "repo")
    from poetflow.repository_lock import ReleaseRunningError, RepositoryLock

    with RepositoryLock.acquire(repo, "poetflow version bump"):
        refused = poetflow(repo, "changelog")
        assert refused.returncode == 2
        assert f"pid {os.getpid()}, `poetflow version bump`, started " in refused.stderr
        with pytest.raises(ReleaseRunningError):
            RepositoryLock.acquire(repo, "poetflow run")
        # Reading is not blocked.
        assert poetflow(repo, "discover", "--json").returncode == 0
    started = time.monotonic()
    assert poetflow(repo, "changelog", "--dry-run").returncode == 0
    assert time.monotonic() - started < 120
