"""Benchmark: cold `poetflow build --all --jobs 2` vs `--jobs 1` of 50 packages, two cores.

Target (issue 16, both cores for builds): on a generated 50-package monorepo whose packages
can build side by side (layers of 10, each package depending on packages of the layer
before: dependencies still build first) and hold some code (20 modules each, `--modules`),
a cold `build --all --jobs 2` takes at most 0.65x the time of `--jobs 1`. Both are whole
processes started as a user would. The machine may be shared, so the runs alternate
(jobs 1, jobs 2, jobs 1, ...), each pair gives a ratio, and the median ratio decides.

What cannot run side by side bounds the ratio: starting Python and the CLI, reading the
workspace and warming poetry-core up come before any build. With two jobs the warm-up
runs on the second core while the rest happens (the workers' template), with one it is
part of the first build. With one-module packages
(`--modules 0`) builds are so small that this bound is near 0.7; a chain of packages
(`--width 1`), each needing the one before, cannot build side by side at all.

PoetFlow runs as installed: an installed wheel comes with its modules compiled (pip
compiles them at install time), while a source checkout under PYTHONDONTWRITEBYTECODE
(set on these machines) would compile every module at every start, a cost of the
checkout, not of PoetFlow. So the modules are compiled once before the first run.

On a virtual machine the host may run other guests on the same cores: the time it takes
from this one ("steal" in /proc/stat) slows two busy cores more than one, and the ratio
then measures the host. Each pair prints the share of CPU time the host took; the ratio
that decides is the median of the pairs where it took under 10% in both runs (all pairs
are printed too). With fewer than three such pairs the run says the host was too busy
and exits with 2: neither a pass nor a fail.
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
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from monorepo_gen import generate_monorepo

TARGET_RATIO = 0.65
# A pair counts when the host took less than this share of the CPU time in both runs.
QUIET_STEAL = 0.10
QUIET_PAIRS_NEEDED = 3

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


def _steal_ticks() -> int | None:
    """Clock ticks the host has taken from this machine's CPUs so far (Linux)."""
    try:
        fields = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0].split()
        return int(fields[8])
    except (OSError, IndexError, ValueError):
        return None


def _compile_poetflow() -> None:
    import compileall

    import poetflow

    compileall.compile_dir(Path(poetflow.__file__).parent, quiet=1)


@dataclass(frozen=True)
class _Run:
    seconds: float
    steal: float | None  # the share of this run's CPU time the host took (both cores)


def _cold_build(root: Path, jobs: int) -> _Run:
    for dist in root.glob("packages/*/dist"):
        shutil.rmtree(dist)
    # --no-cache: a cold build builds; the task cache would restore the last run's wheels.
    command = [
        *(sys.executable, "-m", "poetflow", "build", "--all", "--no-cache"),
        *("--jobs", str(jobs)),
    ]
    stolen_before = _steal_ticks()
    started = time.perf_counter()
    # A session of its own: with the kernel's autogroup scheduling, CPU time is shared out
    # between sessions, and this one's other work (a test run) would count against it.
    subprocess.run(
        command, cwd=root, check=True, capture_output=True, env=_env(), start_new_session=True
    )
    elapsed = time.perf_counter() - started
    stolen_after = _steal_ticks()
    built = len(list(root.glob("packages/*/dist/*.whl")))
    if built != len(list(root.glob("packages/*"))):
        raise SystemExit(f"jobs {jobs}: only {built} wheels were built")
    steal = None
    if stolen_before is not None and stolen_after is not None:
        ticks = os.sysconf("SC_CLK_TCK") * elapsed * (os.cpu_count() or 1)
        steal = (stolen_after - stolen_before) / ticks
    return _Run(elapsed, steal)


def _steal_text(run: _Run) -> str:
    return "?" if run.steal is None else f"{run.steal:4.0%}"


def _quiet(run: _Run) -> bool:
    return run.steal is None or run.steal < QUIET_STEAL


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
        _compile_poetflow()
        _cold_build(root, 2)  # warm the OS caches; not counted
        pairs: list[tuple[_Run, _Run]] = []
        for _round in range(args.rounds):
            serial = _cold_build(root, 1)
            parallel = _cold_build(root, 2)
            pairs.append((serial, parallel))
            print(
                f"jobs 1: {serial.seconds:6.2f} s   jobs 2: {parallel.seconds:6.2f} s   "
                f"ratio {parallel.seconds / serial.seconds:.2f}   "
                f"host took {_steal_text(serial)} / {_steal_text(parallel)}"
            )
    quiet = [(s, p) for s, p in pairs if _quiet(s) and _quiet(p)]
    print(
        f"packages:                       {args.packages} (layers of {args.width}, "
        f"{args.modules} modules each)"
    )
    print(f"cores available:                {len(os.sched_getaffinity(0))}")
    print(f"jobs 2 / jobs 1, all pairs:     {_median_ratio(pairs):6.2f} ({len(pairs)} pairs)")
    if len(quiet) < QUIET_PAIRS_NEEDED:
        print(
            f"the host took {QUIET_STEAL:.0%} or more of the CPU time in all but {len(quiet)} "
            f"pairs: too busy to measure (rerun it later, or with more --rounds)"
        )
        return 2
    ratio = _median_ratio(quiet)
    print(
        f"build --jobs 1, median:         {statistics.median(s.seconds for s, _ in quiet):6.2f} s"
    )
    print(
        f"build --jobs 2, median:         {statistics.median(p.seconds for _, p in quiet):6.2f} s"
    )
    print(
        f"jobs 2 / jobs 1, median ratio:  {ratio:6.2f} over {len(quiet)} quiet pairs "
        f"(target <= {TARGET_RATIO})"
    )
    return 0 if ratio <= TARGET_RATIO else 1


def _median_ratio(pairs: list[tuple[_Run, _Run]]) -> float:
    return statistics.median(parallel.seconds / serial.seconds for serial, parallel in pairs)


if __name__ == "__main__":
    sys.exit(main())
