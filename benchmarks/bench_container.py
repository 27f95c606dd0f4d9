"""Container benchmark: what the image adds over its base, and start-to-first-output.

Builds the image with podman (cached layers make a rebuild quick), then:

- size: the image minus its base image (``FROM``), since the base is not ours to shrink (the
  stand-in base built by scripts/container-setup.sh is fatter than ``debian:bookworm-slim``).
  Target: at most 150 MiB added. Also what each part costs: the Debian packages layer, the
  virtualenv (and its biggest distributions), the byte code compiled into it.
- start-up: best of five, how long `podman run` takes until the first byte of output, for
  PoetFlow through the image's entrypoint (`discover --json` on the demo monorepo) and for the
  baseline, the same container printing with /bin/echo (a bare container start). PoetFlow's
  part, first output after the container started, is the difference. Target: at most 1 s.

Exit 1 when a target is missed. Needs root, podman and the stand-in base image
(scripts/container-setup.sh).
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
MIB = 1024 * 1024
MAX_ADDED_MIB = 150
MAX_STARTUP_S = 1.0
ENV = {**os.environ, "CONTAINERS_CONF": str(REPO / "tests" / "container" / "containers.conf")}
# What each part of the image holds, measured inside it (du, in KiB).
_PARTS = """
venv=/opt/poetflow/lib/python3.11/site-packages
du -sk /opt/poetflow | sed 's|\t.*|\tvirtualenv /opt/poetflow (Poetry + PoetFlow)|'
find /opt/poetflow -name '*.pyc' -exec du -ck {} + | tail -1 \
  | sed 's|\t.*|\t  of which start-up byte code|'
du -sk /usr/lib/python3.11 | sed 's|\t.*|\tDebian python3.11 standard library|'
du -sk /usr/lib/git-core | sed 's|\t.*|\tgit (/usr/lib/git-core)|'
cd $venv && du -sk cryptography pygit2.libs pygit2 rapidfuzz rfc3161_client pydantic_core pydantic \
  virtualenv dulwich pygments poetry poetflow sigstore opentelemetry google rich \
  | sort -rn | sed 's|\t|\t  site-packages/|'
"""


def _size(image: str) -> int:
    inspected = subprocess.run(
        ["podman", "image", "inspect", image], env=ENV, capture_output=True, text=True, check=True
    )
    return int(json.loads(inspected.stdout)[0]["Size"])


def _base_image() -> str:
    for line in (REPO / "Dockerfile").read_text().splitlines():
        if line.upper().startswith("FROM "):
            return line.split()[1]
    raise SystemExit("Dockerfile has no FROM")


def _layers(image: str) -> list[tuple[int, str]]:
    """(size, instruction) of each layer that has content, newest first."""
    history = subprocess.run(
        ["podman", "history", "--format", "json", image],
        env=ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    return [
        (int(entry["size"]), " ".join(str(entry.get("CreatedBy", "")).split())[:90])
        for entry in json.loads(history.stdout)
        if int(entry.get("size", 0)) > 0
    ]


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
    base = _base_image()
    image_size, base_size = _size(IMAGE), _size(base)
    added = image_size - base_size
    parts = subprocess.run(
        ["podman", "run", "--rm", "--network", "none", "--entrypoint", "sh", IMAGE, "-c", _PARTS],
        env=ENV,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp) / "demo"
        shutil.copytree(REPO / "examples" / "demo", demo)
        run = ["podman", "run", "--rm", "--network", "none", "-w", "/github/workspace"]
        run += ["-v", f"{demo}:/github/workspace"]
        poetflow = best_of(5, [*run, IMAGE, "discover", "--json"])
        baseline = best_of(5, [*run, "--entrypoint", "/bin/echo", IMAGE, "started"])
    startup = poetflow - baseline

    print(f"image build (cached layers):            {build_seconds:8.2f} s")
    print(f"image size:                             {image_size / MIB:8.1f} MiB")
    print(f"base image {base}: {base_size / MIB:8.1f} MiB")
    print(
        f"added over the base:                    {added / MIB:8.1f} MiB "
        f"(target <= {MAX_ADDED_MIB} MiB, {added / MIB / MAX_ADDED_MIB:.2f}x of it)"
    )
    print("layers over the base (MiB):")
    base_layers = len(_layers(base))
    for size, created_by in _layers(IMAGE)[: -base_layers or None]:
        if size >= MIB // 10:
            print(f"  {size / MIB:8.1f}  {created_by}")
    print("parts (MiB):")
    for line in parts.strip().splitlines():
        kib, _, what = line.partition("\t")
        print(f"  {int(kib) / 1024:8.1f}  {what}")
    print(f"first output, poetflow discover:        {poetflow:8.3f} s")
    print(f"first output, baseline /bin/echo:       {baseline:8.3f} s")
    print(
        f"first output after the container start: {startup:8.3f} s "
        f"(target <= {MAX_STARTUP_S} s, {startup / MAX_STARTUP_S:.2f}x of it)"
    )
    print(f"ratio poetflow / baseline:              {poetflow / baseline:8.2f}x")
    if added > MAX_ADDED_MIB * MIB or startup > MAX_STARTUP_S:
        print("target missed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
