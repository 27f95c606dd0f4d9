"""Benchmark `poetflow test --all` on a fresh clone of a 20-package monorepo with locks.

The monorepo has third-party dependencies (each package two of requests, attrs, click,
python-dateutil, pyyaml, rich, packaging), pytest in a test group, internal path
dependencies, and a committed poetry.lock per package (made once in the set-up, against
PyPI's simple index). Download caches are warm on both sides, as after a CI cache restore:
Poetry's artifact cache for the baseline, uv's cache for PoetFlow (a warm-up pass fills
each). Every measured run starts from a fresh clone, with no virtualenvs.

Measures, all in the same run:
1. cold: `poetflow test --all` against a `poetry install && poetry run pytest` loop over the
   same packages (target <= 1/5, goal 1/10); `--jobs 1` is shown too;
2. unchanged rerun: every package `cached`, target <= 1/10 of the cold run;
3. a fresh clone pointed at the remote cache (a real nginx, when installed) that the cold
   run filled: every package `cached` and no environment created.

Exits 1 when a target is missed. Run: .venv/bin/python benchmarks/bench_test.py [--count 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.cache_server

from monorepo_gen import add_package_source, generate_monorepo

COLD_TARGET = 1 / 5
COLD_GOAL = 1 / 10
RERUN_TARGET = 1 / 10
DEPENDENCIES = (
    "requests>=2.31",
    "attrs>=23",
    "click>=8",
    "python-dateutil>=2.8",
    "pyyaml>=6",
    "rich>=13",
    "packaging>=23",
)
_GIT = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@poetflow.invalid",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@poetflow.invalid",
}


def _run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-4000:] + completed.stderr[-4000:])
        raise SystemExit(f"{' '.join(command[:4])} failed in {cwd} ({completed.returncode})")
    return completed


def _poetry(cwd: Path, env: dict[str, str], *args: str) -> None:
    _run([sys.executable, "-m", "poetry", *args, "--no-interaction"], cwd, env)


def _make_origin(root: Path, count: int, env: dict[str, str]) -> list[str]:
    names = generate_monorepo(root, count, dependencies=DEPENDENCIES, spread=2)
    add_package_source(root)
    folders = sorted((root / "packages").iterdir())
    # Set-up, not measured: two locks at a time (each is mostly waiting on the index).
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda folder: _poetry(folder, env, "lock"), folders))
    _run(["git", "init", "-q", "-b", "main"], root, env)
    _run(["git", "add", "-A"], root, env)
    _run(["git", "commit", "-q", "-m", "the monorepo"], root, env)
    return names


def _clone(origin: Path, target: Path, env: dict[str, str]) -> Path:
    _run(["git", "clone", "-q", str(origin), str(target)], origin.parent, env)
    return target


def _poetry_loop(clone: Path, names: list[str], env: dict[str, str]) -> float:
    """The baseline: what a CI job does without PoetFlow, package after package."""
    started = time.monotonic()
    for name in names:
        folder = clone / "packages" / name
        _poetry(folder, env, "install")
        _run([sys.executable, "-m", "poetry", "run", "pytest", "-q"], folder, env)
    return time.monotonic() - started


def _poetflow(clone: Path, env: dict[str, str], *args: str) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    completed = _run(
        [sys.executable, "-m", "poetflow", "test", "--all", "--json", *args], clone, env
    )
    return json.loads(completed.stdout), time.monotonic() - started


def _statuses(payload: dict[str, Any]) -> set[str]:
    return {package["status"] for package in payload["packages"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=20)
    args = parser.parse_args()
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-test-") as temporary:
        base = Path(temporary)
        env = {
            **os.environ,
            **_GIT,
            "POETRY_CACHE_DIR": str(base / "poetry-cache"),
            "POETRY_VIRTUALENVS_IN_PROJECT": "true",
            "UV_CACHE_DIR": str(base / "uv-cache"),
            "PIP_CONFIG_FILE": os.devnull,
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
        env.pop("VIRTUAL_ENV", None)
        for name in [key for key in env if key.startswith("POETFLOW_")]:
            env.pop(name)
        print(f"set-up: {args.count} packages, locking each against PyPI ...", flush=True)
        origin = base / "origin"
        names = _make_origin(origin, args.count, env)

        print("warming the download caches (Poetry's and uv's) ...", flush=True)
        _poetry_loop(_clone(origin, base / "warm-poetry", env), names, env)
        _poetflow(_clone(origin, base / "warm-uv", env), env, "--no-cache")

        print("measuring ...", flush=True)
        baseline = _poetry_loop(_clone(origin, base / "baseline", env), names, env)
        serial, serial_wall = _poetflow(
            _clone(origin, base / "serial", env), env, "--jobs", "1", "--no-cache"
        )
        with _remote_cache(base / "nginx") as url:
            remote = ("--cache-url", url) if url else ()
            cold_clone = _clone(origin, base / "cold", env)
            cold, cold_wall = _poetflow(cold_clone, env, *remote)
            rerun, rerun_wall = _poetflow(cold_clone, env, *remote)
            fresh_wall = None
            if url:
                fresh_clone = _clone(origin, base / "fresh", env)
                fresh, fresh_wall = _poetflow(fresh_clone, env, *remote)
                made = (fresh_clone / ".poetflow" / "venvs").exists()
                if _statuses(fresh) != {"cached"} or made:
                    failures.append(
                        f"fresh clone with the remote cache: statuses {_statuses(fresh)}, "
                        f"environments created: {made}"
                    )

    tests = sum(p["tests"]["tests"] for p in cold["packages"])
    jobs = os.cpu_count() or 1
    cold_ratio = cold_wall / baseline
    rerun_ratio = rerun_wall / cold_wall
    print(f"\nmonorepo: {args.count} packages, {tests} tests, locks committed; fresh clones")
    print(f"poetry install && poetry run pytest loop: {baseline:8.2f} s")
    print(
        f"poetflow test --all --jobs 1 (cold):     {serial_wall:8.2f} s   "
        f"ratio 1/{baseline / serial_wall:.1f}"
    )
    print(
        f"poetflow test --all (cold, {jobs} jobs):     {cold_wall:8.2f} s   "
        f"ratio 1/{baseline / cold_wall:.1f}   (target 1/{1 / COLD_TARGET:.0f}, "
        f"goal 1/{1 / COLD_GOAL:.0f}; uv installs {cold['install_seconds']:.2f} s summed)"
    )
    print(
        f"poetflow test --all (unchanged rerun):   {rerun_wall:8.2f} s   "
        f"ratio 1/{cold_wall / rerun_wall:.1f} of cold (target 1/{1 / RERUN_TARGET:.0f}); "
        f"statuses {sorted(_statuses(rerun))}"
    )
    if fresh_wall is not None:
        print(
            f"fresh clone + remote cache (nginx):      {fresh_wall:8.2f} s   "
            f"every package cached, no environment created"
        )
    else:
        print("fresh clone + remote cache: skipped (nginx is not installed)")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {jobs} cores")
    if _statuses(cold) != {"passed"} or _statuses(serial) != {"passed"}:
        failures.append(f"cold runs did not pass: {_statuses(cold)} {_statuses(serial)}")
    if cold_ratio > COLD_TARGET:
        failures.append(f"cold ratio {cold_ratio:.3f} is above {COLD_TARGET:.3f}")
    if _statuses(rerun) != {"cached"}:
        failures.append(f"unchanged rerun statuses {_statuses(rerun)}, not all cached")
    if rerun_ratio > RERUN_TARGET:
        failures.append(f"rerun ratio {rerun_ratio:.3f} is above {RERUN_TARGET:.3f}")
    for failure in failures:
        print(f"TARGET MISSED: {failure}")
    return 1 if failures else 0


@contextmanager
def _remote_cache(base: Path) -> Iterator[str | None]:
    """A real nginx cache (the test suite's) when nginx is installed, else None."""
    from tests.cache_server import nginx_binary, start_cache_server

    if nginx_binary() is None:
        yield None
        return
    with start_cache_server(base) as server:
        yield server.url


if __name__ == "__main__":
    sys.exit(main())
