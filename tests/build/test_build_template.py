"""``poetflow build`` started as a user starts it: the workers come from a template forked
before the command line loads, build what one job builds, and leave nothing behind."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from build_helpers import committed_monorepo


def _poetflow(root: Path, temporary: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command in a session of its own; fails the test if any of its processes stays."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("POETFLOW_")}
    env.update(TMPDIR=str(temporary), PIP_CONFIG_FILE=os.devnull)
    process = subprocess.Popen(
        [sys.executable, "-m", "poetflow", *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    stdout, stderr = process.communicate(timeout=300)
    deadline = time.monotonic() + 5
    while _session_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _session_members(process.pid) == [], f"left running after {args}:\n{stderr}"
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _session_members(session: int) -> list[int]:
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # it ended meanwhile
        if int(fields[3]) == session and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


def _artifacts(root: Path) -> dict[str, str]:
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.glob("packages/*/dist/*"))
        if path.name.endswith((".whl", ".tar.gz"))
    }


def test_workers_forked_from_the_template_build_what_one_job_builds(tmp_path: Path) -> None:
    root = committed_monorepo(tmp_path / "mono", 8)
    temporary = tmp_path / "tmp"
    temporary.mkdir()

    parallel = _poetflow(
        root, temporary, "--log-level", "debug", "build", "--all", "--no-cache", "--jobs", "2"
    )
    assert parallel.returncode == 0, parallel.stderr
    assert "template build workers ready" in parallel.stderr
    from_workers = _artifacts(root)
    assert len(from_workers) == 16
    for dist in root.glob("packages/*/dist"):
        for path in dist.iterdir():
            path.unlink()

    serial = _poetflow(root, temporary, "build", "--all", "--no-cache", "--jobs", "1")
    assert serial.returncode == 0, serial.stderr
    assert _artifacts(root) == from_workers
    assert list(temporary.iterdir()) == []  # no staging or warm-up folder


def test_a_build_that_needs_no_workers_ends_the_template_it_did_not_use(tmp_path: Path) -> None:
    root = committed_monorepo(tmp_path / "mono", 8)
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    assert _poetflow(root, temporary, "build", "--all", "--jobs", "2").returncode == 0

    rerun = _poetflow(root, temporary, "--json", "build", "--all", "--jobs", "2")

    assert rerun.returncode == 0, rerun.stderr
    statuses = [package["status"] for package in json.loads(rerun.stdout)["packages"]]
    assert statuses == ["up to date"] * 8
    assert list(temporary.iterdir()) == []  # its warm-up, stopped halfway, cleaned up


def test_a_build_refused_for_bad_input_ends_the_template_too(tmp_path: Path) -> None:
    root = committed_monorepo(tmp_path / "mono", 2)
    temporary = tmp_path / "tmp"
    temporary.mkdir()

    refused = _poetflow(root, temporary, "build", "--package", "no-such-package", "--jobs", "2")

    assert refused.returncode == 2, refused.stderr
    assert "no-such-package" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert list(temporary.iterdir()) == []
