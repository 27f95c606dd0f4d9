"""Benchmark: cold `poetflow build --all --jobs 2` vs `--jobs 1` of 50 packages, two cores.

Target (issue 16, both cores for builds): on a generated 50-package monorepo whose packages
can build side by side (layers of 10, each package depending on packages of the layer
before: dependencies still build first) and hold some code (20 modules each, `--modules`),
a cold `build --all --jobs 2` takes at most 0.65x the time of `--jobs 1`. Both are whole
processes started as a user would. The machine may be shared, so the runs alternate
(jobs 1, jobs 2, jobs 1, ...), each pair gives a ratio, and the median ratio decides.

What cannot run side by side bounds the ratio: starting Python and the CLI, and importing
poetry-core (about 0.8 s of CPU together) come before any build. With one-module packages
(`--modules 0`) builds are so small that this bound is near 0.7; a chain of packages
(`--width 1`), each needing the one before, cannot build side by side at all.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from monorepo_gen import generate_monorepo

TARGET_RATIO = 0.65

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@poetflow.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@poetflow.invalid",
}


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "SOURCE_DATE_EPOCH")}
    env.update(_GIT_ENV)
    env["PIP_CONFIG_FILE"] = os.devnull
    return env


def _cold_build(root: Path, jobs: int) -> float:
    for dist in root.glob("packages/*/dist"):
        shutil.rmtree(dist)
    # --no-cache: a cold build builds; the task cache would restore the last run's wheels.
    command = [
        *(sys.executable, "-m", "poetflow", "build", "--all", "--no-cache"),
        *("--jobs", str(jobs)),
    ]
    started = time.perf_counter()
    # A session of its own: with the kernel's autogroup scheduling, CPU time is shared out
    # between sessions, and this one's other work (a test run) would count against it.
    subprocess.run(
        command, cwd=root, check=True, capture_output=True, env=_env(), start_new_session=True
    )
    elapsed = time.perf_counter() - started
    built = len(list(root.glob("packages/*/dist/*.whl")))
    if built != len(list(root.glob("packages/*"))):
        raise SystemExit(f"jobs {jobs}: only {built} wheels were built")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packages", type=int, default=50)
    parser.add_argument("--width", type=int, default=10, help="packages per layer (1: a chain)")
    parser.add_argument("--modules", type=int, default=20, help="modules of code per package")
    parser.add_argument("--rounds", type=int, default=5, help="pairs of runs (median decides)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mono"
        generate_monorepo(root, args.packages, width=args.width, modules=args.modules)
        for command in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "init"]):
            subprocess.run(["git", *command], cwd=root, check=True, env=_env())
        _cold_build(root, 2)  # warm the OS caches and the bytecode; not counted
        pairs: list[tuple[float, float]] = []
        for _round in range(args.rounds):
            serial = _cold_build(root, 1)
            parallel = _cold_build(root, 2)
            pairs.append((serial, parallel))
            ratio = parallel / serial
            print(f"jobs 1: {serial:6.2f} s   jobs 2: {parallel:6.2f} s   ratio {ratio:.2f}")
    ratio = statistics.median(parallel / serial for serial, parallel in pairs)
    print(
        f"packages:                       {args.packages} (layers of {args.width}, "
        f"{args.modules} modules each)"
    )
    print(f"cores available:                {len(os.sched_getaffinity(0))}")
    print(f"build --jobs 1, median:         {statistics.median(s for s, _ in pairs):6.2f} s")
    print(f"build --jobs 2, median:         {statistics.median(p for _, p in pairs):6.2f} s")
    print(f"jobs 2 / jobs 1, median ratio:  {ratio:6.2f} (target <= {TARGET_RATIO})")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
