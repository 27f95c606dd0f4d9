"""Container benchmark: image size and container start-to-first-output.

Builds the image with podman (cached layers make a rebuild quick), then times, best of
five, how long `podman run` takes until the first byte of output, for PoetFlow through
the image's entrypoint (`discover --json` on the demo monorepo) and for the baseline: the
same container printing with /bin/echo (pure container start-up). Targets: the image
under 600 MB, first output within 3 s, and PoetFlow adding at most 2 s to a bare start.
Needs root, podman and the stand-in base image (scripts/container-setup.sh).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IMAGE = "localhost/poetflow:bench"
MAX_IMAGE_MB = 600
MAX_FIRST_OUTPUT_S = 3.0
MAX_OVERHEAD_S = 2.0
ENV = {**os.environ, "CONTAINERS_CONF": str(REPO / "tests" / "container" / "containers.conf")}


def first_output_seconds(command: list[str]) -> float:
    started = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=ENV)
    assert process.stdout is not None
    first = process.stdout.read(1)
    elapsed = time.monotonic() - started
    process.stdout.read()
    if process.wait() != 0 or not first:
        raise SystemExit(f"{' '.join(command)} failed with exit code {process.returncode}")
    return elapsed


def best_of(runs: int, command: list[str]) -> float:
    return min(first_output_seconds(command) for _ in range(runs))


def main() -> int:
    if shutil.which("podman") is None:
        print("podman is not installed: run scripts/container-setup.sh as root", file=sys.stderr)
        return 2
    started = time.monotonic()
    subprocess.run(
        ["podman", "build", "--pull=never", "--network", "host", "--quiet", "-t", IMAGE, str(REPO)],
        env=ENV,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    build_seconds = time.monotonic() - started
    inspected = subprocess.run(
        ["podman", "image", "inspect", IMAGE], env=ENV, capture_output=True, text=True, check=True
    )
    size_mb = json.loads(inspected.stdout)[0]["Size"] / 1e6

    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo"
        shutil.copytree(REPO / "examples" / "demo", demo)
        run = ["podman", "run", "--rm", "--network", "none", "-w", "/github/workspace"]
        run += ["-v", f"{demo}:/github/workspace"]
        poetflow = best_of(5, [*run, IMAGE, "discover", "--json"])
        baseline = best_of(5, [*run, "--entrypoint", "/bin/echo", IMAGE, "started"])

    overhead = poetflow - baseline
    print(f"image build (cached layers):          {build_seconds:8.2f} s")
    print(f"image size:                           {size_mb:8.1f} MB (target < {MAX_IMAGE_MB})")
    print(
        f"first output, poetflow discover:      {poetflow:8.3f} s (target < {MAX_FIRST_OUTPUT_S})"
    )
    print(f"first output, baseline /bin/echo:     {baseline:8.3f} s")
    print(f"PoetFlow start-up over a bare start:  {overhead:8.3f} s (target < {MAX_OVERHEAD_S})")
    print(f"ratio poetflow / baseline:            {poetflow / baseline:8.2f}x")
    missed = size_mb >= MAX_IMAGE_MB or poetflow >= MAX_FIRST_OUTPUT_S or overhead >= MAX_OVERHEAD_S
    if missed:
        print("target missed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
