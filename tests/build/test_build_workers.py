"""Builds in worker processes: the same bytes as in-process builds, the same errors."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from build_helpers import committed_monorepo

from poetflow.build.engine import build_packages
from poetflow.build.results import BuildOptions
from poetflow.build.sources import SourceTree
from poetflow.build.staging import staging_directory
from poetflow.build.template import WorkerTemplate
from poetflow.build.workers import BuildJob, BuildWorkers, build_staged
from poetflow.errors import PoetFlowError
from poetflow.workspace import Workspace, load_workspace

EPOCH = 1_700_000_000


def _job(workspace: Workspace, name: str, staging: Path) -> BuildJob:
    package = workspace.get(name)
    files = tuple(SourceTree(workspace.root).files(package))
    return BuildJob(package, files, staging, EPOCH, "core", 60.0)


def _bytes_of(built: object) -> tuple[bytes, bytes]:
    return built.sdist.read_bytes(), built.wheel.read_bytes()  # type: ignore[attr-defined]


def _workers(workspace: Workspace, start_method: str) -> BuildWorkers:
    template = None
    if start_method == "template":
        template = WorkerTemplate.start(2)
        assert template is not None, "no template: this test process runs other threads"
    return BuildWorkers(workspace, 2, start_method, template=template)


@pytest.mark.parametrize("start_method", ["fork", "forkserver", "template"])
def test_a_worker_process_builds_the_same_bytes_as_this_process(
    demo_repo: Path, start_method: str
) -> None:
    workspace = load_workspace(demo_repo)
    workers = _workers(workspace, start_method)
    workers.start()
    try:
        assert workers.ready(timeout=120), "no worker process started"
        for package in workspace.packages:
            with staging_directory(package.name) as here, staging_directory(package.name) as there:
                local = build_staged(_job(workspace, package.name, here), workspace)
                remote = workers.build(_job(workspace, package.name, there), in_worker=True)
                assert remote.sdist.name == local.sdist.name
                assert remote.wheel.name == local.wheel.name
                assert _bytes_of(remote) == _bytes_of(local), package.name
                assert remote.problems == local.problems == ()
    finally:
        workers.close()


def test_a_failure_in_a_worker_reads_as_it_would_in_this_process(demo_repo: Path) -> None:
    core = demo_repo / "packages" / "core" / "pyproject.toml"
    core.write_text(core.read_text().replace('readme = "README.md"', 'readme = "MISSING.md"'))
    workspace = load_workspace(demo_repo)
    name = workspace.packages[0].name
    for package in workspace.packages:
        if package.pyproject == core:
            name = package.name
    workers = BuildWorkers(workspace, 2, "forkserver")
    workers.start()
    try:
        assert workers.ready(timeout=120)
        with staging_directory(name) as here, staging_directory(name) as there:
            with pytest.raises(PoetFlowError) as local:
                build_staged(_job(workspace, name, here), workspace)
            with pytest.raises(PoetFlowError) as remote:
                workers.build(_job(workspace, name, there), in_worker=True)
        # Each names its own staging folder; the rest reads the same.
        shown = str(remote.value).replace(str(there), "<staging>")
        assert shown == str(local.value).replace(str(here), "<staging>")
        assert "MISSING.md" in str(remote.value)
    finally:
        workers.close()


@pytest.mark.slow
def test_jobs_3_builds_many_packages_into_the_same_files_as_jobs_1(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = committed_monorepo(tmp_path / "mono", 12)
    workspace = load_workspace(root)

    serial = build_packages(workspace, workspace.packages, BuildOptions(jobs=1))
    assert serial.ok
    saved = {a.path: a.path.read_bytes() for p in serial.packages for a in p.artifacts}
    # Three jobs: this process and two workers build side by side.
    with caplog.at_level(logging.DEBUG, logger="poetflow.build.workers"):
        parallel = build_packages(workspace, workspace.packages, BuildOptions(jobs=3, force=True))
    assert "build workers ready" in caplog.text

    assert [p.status for p in parallel.packages] == ["built"] * 12
    for package in parallel.packages:
        for artifact in package.artifacts:
            assert artifact.path.read_bytes() == saved[artifact.path], artifact.path.name


def test_parallel_builds_leave_no_staging_or_warm_up_folder_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    root = committed_monorepo(tmp_path / "mono", 8)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))
    workspace = load_workspace(root)

    with caplog.at_level(logging.DEBUG, logger="poetflow.build.workers"):
        report = build_packages(workspace, workspace.packages, BuildOptions(jobs=2))

    assert "build workers ready" in caplog.text
    assert [p.status for p in report.packages] == ["built"] * 8
    assert list(temporary.iterdir()) == []


def test_a_warm_up_that_cannot_build_does_not_stop_the_run(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from poetflow.build import workers

    def no_room(_pyproject: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(workers, "_build_warm_up_package", no_room)
    with caplog.at_level(logging.DEBUG, logger="poetflow.build.workers"):
        workers.warm_up.__wrapped__()  # the uncached function: this process warmed up already
    assert "the warm-up build failed" in caplog.text


@pytest.mark.parametrize("start_method", ["fork", "template"])
def test_a_worker_killed_mid_build_fails_its_builds_and_the_queued_one_without_hanging(
    demo_repo: Path, monkeypatch: pytest.MonkeyPatch, start_method: str
) -> None:
    import os
    import signal
    import threading
    import time

    from poetflow.build import workers as workers_module

    original = workers_module.build_staged

    def slow(job: BuildJob, workspace: Workspace) -> object:
        time.sleep(1.5)  # long enough to be killed while building, with a job queued
        return original(job, workspace)

    # Patched before the workers (or their template) are forked: they build slowly.
    monkeypatch.setattr(workers_module, "build_staged", slow)
    workspace = load_workspace(demo_repo)
    workers = _workers(workspace, start_method)
    workers.start()
    results: dict[int, str] = {}

    def build(number: int, staging: Path) -> None:
        try:
            workers.build(_job(workspace, workspace.packages[0].name, staging))
            results[number] = "built"
        except PoetFlowError as exc:
            results[number] = str(exc)

    try:
        assert workers.ready(timeout=120)
        victim = workers._workers[0]
        with (
            staging_directory("a") as a,
            staging_directory("b") as b,
            staging_directory("c") as c,
            staging_directory("d") as d,
        ):
            threads = [
                threading.Thread(target=build, args=(n, s)) for n, s in enumerate((a, b, c, d))
            ]
            for thread in threads:
                thread.start()
                time.sleep(0.1)  # in turn: one job each, then one more each, queued
            os.kill(victim.pid, signal.SIGKILL)
            for thread in threads:
                thread.join(timeout=60)
            assert not any(thread.is_alive() for thread in threads), "a build hung"
    finally:
        workers.close()
    assert len(results) == 4, results
    died = [text for text in results.values() if "died" in text]
    # The one it was building, and the one sent to wait for it; every other one built.
    assert 1 <= len(died) <= 2, results
    assert list(results.values()).count("built") == 4 - len(died), results
    assert "the build worker for" in died[0]
