"""Benchmark: `poetflow discover --json` on a 400-package monorepo vs `python -c "import typer"`.

Target (issue: foundation): the whole discover process costs at most 4x the bare typer import,
measured as whole processes in the same environment and the same run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from monorepo_gen import generate_monorepo

TARGET_RATIO = 4.0


def _time(command: list[str], cwd: Path, runs: int) -> float:
    """Median wall time of ``runs`` executions (after one warm-up run)."""
    subprocess.run(command, cwd=cwd, check=True, capture_output=True)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, check=True, capture_output=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packages", type=int, default=400)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "mono"
        generate_monorepo(root, args.packages)
        baseline = _time([sys.executable, "-c", "import typer"], root, args.runs)
        discover = _time([sys.executable, "-m", "poetflow", "discover", "--json"], root, args.runs)
        check = subprocess.run(
            [sys.executable, "-m", "poetflow", "discover", "--json"],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        )
        assert check.stdout.count('"name"') == args.packages, "discover missed packages"
    ratio = discover / baseline
    print(f"packages:                    {args.packages}")
    print(f"python -c 'import typer':    {baseline * 1000:8.1f} ms (median of {args.runs})")
    print(f"poetflow discover --json:    {discover * 1000:8.1f} ms (median of {args.runs})")
    print(f"ratio:                       {ratio:8.2f}x (target <= {TARGET_RATIO}x)")
    return 0 if ratio <= TARGET_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
