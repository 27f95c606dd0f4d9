"""What plugin commands cost `poetflow --help`: entry-point lookup only, never plugin imports.

Generates 20 installed plugin distributions (real ``*.dist-info`` folders on PYTHONPATH),
each adding a command whose module takes 0.5 s to import, then times ``poetflow --help``
with them and with the plugin lookup switched off (the baseline), best of 15 runs each.
Fails when the lookup adds more than 200 ms or when any plugin module gets imported.

    /work/venv/bin/python benchmarks/bench_plugins.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PLUGINS = 20
RUNS = 15
MAX_OVERHEAD = 0.200

BASELINE = """
import poetflow.cli.plugins as plugins
plugins.PluginCommandGroup._plugin_entries = lambda self: {}
from poetflow.cli.app import main
main(["--help"])
"""
WITH_PLUGINS = """
import sys
from poetflow.cli.app import main
try:
    main(["--help"])
finally:
    imported = [name for name in sys.modules if name.startswith("slow_plugin_")]
    if imported:
        raise SystemExit(f"plugin modules imported by --help: {imported}")
"""


def _install(site: Path) -> None:
    for index in range(PLUGINS):
        name = f"slow_plugin_{index}"
        info = site / f"{name}-1.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\nSummary: Plugin {index}\n"
        )
        (info / "entry_points.txt").write_text(f"[poetflow.commands]\ncmd-{index} = {name}:app\n")
        (site / f"{name}.py").write_text(
            "import time\nimport typer\ntime.sleep(0.5)\napp = typer.Typer()\n"
        )


def _run(code: str, env: dict[str, str], expect: str | None = None) -> float:
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - started
    if completed.returncode != 0:
        raise SystemExit(f"poetflow --help failed:\n{completed.stdout}{completed.stderr}")
    if expect is not None and expect not in completed.stdout:
        raise SystemExit(f"{expect!r} missing from --help:\n{completed.stdout}")
    return elapsed


def _best_pair(env: dict[str, str]) -> tuple[float, float]:
    """Best of RUNS each, alternating the two so that load from other work hits both."""
    baseline, plugins = float("inf"), float("inf")
    for _ in range(RUNS):
        baseline = min(baseline, _run(BASELINE, env))
        plugins = min(plugins, _run(WITH_PLUGINS, env, expect=f"cmd-{PLUGINS - 1}"))
    return baseline, plugins


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp)
        _install(site)
        env = {**os.environ, "PYTHONPATH": str(site)}
        baseline, with_plugins = _best_pair(env)
    overhead = with_plugins - baseline
    print(f"poetflow --help, built-in commands only:      {baseline * 1000:7.1f} ms")
    print(f"poetflow --help, {PLUGINS} plugin commands listed: {with_plugins * 1000:7.1f} ms")
    print(
        f"overhead {overhead * 1000:.1f} ms (ratio {with_plugins / baseline:.2f}); "
        f"importing the plugins would cost {PLUGINS * 0.5:.0f} s"
    )
    if overhead > MAX_OVERHEAD:
        print(f"FAIL: the plugin lookup adds more than {MAX_OVERHEAD * 1000:.0f} ms")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
