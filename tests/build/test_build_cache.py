"""Built artifacts through the task cache: another clone (a CI matrix job) reuses the wheels
a first one built, byte for byte, from a real nginx speaking Bazel's HTTP cache protocol."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.cache_server import start_cache_server


def _built(result_stdout: str) -> dict[str, dict[str, object]]:
    return {p["name"]: p for p in json.loads(result_stdout)["packages"]}


def _hashes(package: dict[str, object]) -> dict[str, str]:
    artifacts = package["artifacts"]
    assert isinstance(artifacts, list)
    return {a["filename"]: a["sha256"] for a in artifacts}


def test_a_second_clone_takes_the_artifacts_from_the_remote_cache(
    demo_repo, run_cli, tmp_path: Path
) -> None:
    with start_cache_server(tmp_path / "nginx") as server:
        first = run_cli("build", "--root", demo_repo, "--cache-url", server.url, "--json")
        assert first.exit_code == 0, first.stdout + first.stderr
        built = _built(first.stdout)
        assert {p["status"] for p in built.values()} == {"built"}

        other = tmp_path / "matrix-job"
        subprocess.run(["git", "clone", "-q", str(demo_repo), str(other)], check=True)
        second = run_cli("build", "--root", other, "--cache-url", server.url, "--json")
    assert second.exit_code == 0, second.stdout + second.stderr
    cached = _built(second.stdout)
    assert {p["status"] for p in cached.values()} == {"cached"}
    for name, package in cached.items():
        assert _hashes(package) == _hashes(built[name])  # the very same bytes
    for package in cached.values():
        for artifact in package["artifacts"]:  # type: ignore[attr-defined]
            assert Path(artifact["path"]).is_file()
    # Recorded like a local build: the next build has nothing to do, and git sees nothing.
    again = _built(run_cli("build", "--root", other, "--json").stdout)
    assert {p["status"] for p in again.values()} == {"up to date"}
    status = subprocess.run(
        ["git", "status", "--porcelain"], cwd=other, capture_output=True, text=True, check=True
    )
    assert status.stdout == ""


def test_the_local_cache_restores_deleted_artifacts_and_force_builds(demo_repo, run_cli) -> None:
    assert run_cli("build", "--root", demo_repo).exit_code == 0
    dist = demo_repo / "packages" / "core" / "dist"
    for path in dist.iterdir():
        path.unlink()
    restored = _built(run_cli("build", "--root", demo_repo, "--json").stdout)
    assert restored["acme-core"]["status"] == "cached"
    assert restored["acme-app"]["status"] == "up to date"
    forced = _built(
        run_cli("build", "--root", demo_repo, "-p", "acme-core", "--force", "--json").stdout
    )
    assert forced["acme-core"]["status"] == "built"
    no_cache = _built(
        run_cli(
            "build", "--root", demo_repo, "-p", "acme-core", "--force", "--no-cache", "--json"
        ).stdout
    )
    assert no_cache["acme-core"]["status"] == "built"
