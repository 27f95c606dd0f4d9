"""Benchmark: `poetflow publish` of 50 built packages vs a `poetry publish` loop over them.

Target (issue: publish): publishing the 50 packages to a fresh local pypiserver costs at
most 1/5 of a `poetry publish` loop over the same packages to another fresh pypiserver,
measured as whole processes in the same run. Both read the same Poetry-style settings:
POETRY_REPOSITORIES_BENCH_URL and POETRY_HTTP_BASIC_BENCH_USERNAME/_PASSWORD.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from monorepo_gen import generate_monorepo  # noqa: E402

from index_server import IndexServer, start_index_server  # noqa: E402

TARGET_RATIO = 0.2


def _build(root: Path, names: list[str]) -> float:
    """Build every package (poetflow build when available, else poetry-core directly)."""
    started = time.perf_counter()
    try:
        from poetflow.build.engine import build_packages  # type: ignore[attr-defined]
        from poetflow.build.results import BuildOptions
    except ImportError:
        from poetry.core.masonry import api

        for name in names:
            directory = root / "packages" / name
            os.chdir(directory)
            (directory / "dist").mkdir(exist_ok=True)
            api.build_sdist("dist")
            api.build_wheel("dist")
        os.chdir(root)
    else:
        from poetflow.workspace import load_workspace

        workspace = load_workspace(root)
        report = build_packages(workspace, workspace.packages, BuildOptions())
        assert report.ok, "poetflow build failed"
    return time.perf_counter() - started


def _env(server: IndexServer) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POETFLOW_", "POETRY_HTTP_BASIC", "POETRY_PYPI_TOKEN"))
    }
    env.update(
        {
            "PIP_CONFIG_FILE": os.devnull,
            "POETRY_REPOSITORIES_BENCH_URL": server.url,
            "POETRY_HTTP_BASIC_BENCH_USERNAME": server.username,
            "POETRY_HTTP_BASIC_BENCH_PASSWORD": server.password,
            # No desktop keyring here; without this Poetry probes for one on every run.
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
    )
    return env


def _poetry_loop(root: Path, names: list[str], server: IndexServer) -> float:
    poetry = shutil.which("poetry", path=str(Path(sys.executable).parent)) or "poetry"
    env = _env(server)
    started = time.perf_counter()
    for name in names:
        subprocess.run(
            [poetry, "publish", "--repository", "bench", "--no-interaction"],
            cwd=root / "packages" / name,
            env=env,
            check=True,
            capture_output=True,
        )
    return time.perf_counter() - started


def _poetflow(root: Path, server: IndexServer, jobs: int) -> float:
    command = [sys.executable, "-m", "poetflow", "publish", "--root", str(root)]
    command += ["--repository", "bench", "--jobs", str(jobs)]
    started = time.perf_counter()
    subprocess.run(command, env=_env(server), check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packages", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        root = base / "mono"
        names = generate_monorepo(root, args.packages)
        build_time = _build(root, names)
        expected = 2 * args.packages
        loop_index = start_index_server(base / "index-poetry")
        poetflow_index = start_index_server(base / "index-poetflow")
        try:
            loop = _poetry_loop(root, names, loop_index)
            poetflow = _poetflow(root, poetflow_index, args.jobs)
            rerun = _poetflow(root, poetflow_index, args.jobs)
            assert len(loop_index.files()) == expected, "the poetry loop missed files"
            assert len(poetflow_index.files()) == expected, "poetflow missed files"
        finally:
            loop_index.stop()
            poetflow_index.stop()
    ratio = poetflow / loop
    print(f"packages:                       {args.packages} ({expected} files)")
    print(f"build (not measured against):   {build_time:8.2f} s")
    print(f"poetry publish loop:            {loop:8.2f} s")
    print(f"poetflow publish --jobs {args.jobs}:     {poetflow:8.2f} s")
    print(f"poetflow rerun (all skipped):   {rerun:8.2f} s")
    print(f"ratio:                          {ratio:8.3f} (target <= {TARGET_RATIO})")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
