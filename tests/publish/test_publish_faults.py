"""Transient faults and kills: every file lands exactly once, and a rerun completes the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from publish_fixtures import DIAMOND, write_workspace

from index_server import FaultPlan, FaultyProxy, IndexServer
from poetflow.publish.engine import publish_packages
from poetflow.publish.results import PublishOptions
from poetflow.publish.retry import RetryPolicy
from poetflow.workspace import load_workspace

pytestmark = pytest.mark.slow

POETFLOW = str(Path(sys.executable).with_name("poetflow"))
SIX = {**DIAMOND, "acme-cli": ["acme-app"], "acme-extra": []}


def _expected(packages: dict[str, list[str]]) -> list[str]:
    return sorted(
        f"{name.replace('-', '_')}-0.1.0{suffix}"
        for name in packages
        for suffix in (".tar.gz", "-py3-none-any.whl")
    )


def test_faulty_index_gets_every_file_exactly_once(
    tmp_path: Path, index_server: IndexServer
) -> None:
    plan = FaultPlan(
        error_503=0.2, drop_before=0.15, drop_after=0.2, stall=0.08, stall_seconds=1.5, seed=3
    )
    proxy = FaultyProxy(index_server.url, plan)
    try:
        root = write_workspace(tmp_path / "mono", SIX, proxy.url)
        workspace = load_workspace(root)
        env = {
            "POETFLOW_REPOSITORY_LOCAL_USERNAME": index_server.username,
            "POETFLOW_REPOSITORY_LOCAL_PASSWORD": index_server.password,
        }
        options = PublishOptions(
            repository="local",
            jobs=3,
            timeout=0.8,
            retry=RetryPolicy(attempts=8, base=0.05, max_delay=0.5, deadline=60),
            env=env,
        )
        report = publish_packages(workspace, workspace.packages, options)
    finally:
        proxy.stop()
    assert report.ok, [(f.filename, f.detail) for f in report.files if f.status != "uploaded"]
    assert {item.status for item in report.files} == {"uploaded"}
    # Every kind of fault happened, and still every file reached the index exactly once.
    assert set(proxy.faults) == {"503", "drop_before", "drop_after", "stall"}, proxy.faults
    assert sorted(proxy.upstream_successes) == _expected(SIX)
    assert set(proxy.upstream_successes.values()) == {1}
    assert index_server.files() == _expected(SIX)


def test_killed_publish_completes_on_rerun_without_duplicates(
    tmp_path: Path, index_server: IndexServer
) -> None:
    proxy = FaultyProxy(index_server.url, FaultPlan(delay_seconds=0.25))
    try:
        root = write_workspace(tmp_path / "mono", SIX, proxy.url)
        env = {
            **os.environ,
            "PIP_CONFIG_FILE": os.devnull,
            "POETFLOW_REPOSITORY_LOCAL_USERNAME": index_server.username,
            "POETFLOW_REPOSITORY_LOCAL_PASSWORD": index_server.password,
        }
        command = [POETFLOW, "publish", "--root", str(root), "-r", "local", "--jobs", "1"]
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while len(index_server.files()) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        landed = index_server.files()
        assert 3 <= len(landed) < len(_expected(SIX)), "the kill should land mid-publish"

        rerun = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    finally:
        proxy.stop()
    assert rerun.returncode == 0, rerun.stderr
    assert index_server.files() == _expected(SIX)
    assert set(proxy.upstream_successes.values()) == {1}
    for filename in landed:
        assert f"skipped {filename} (already published)" in rerun.stderr
