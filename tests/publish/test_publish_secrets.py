"""A secret planted in every credential variable appears in no output, whatever the path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from index_server import IndexServer

pytestmark = pytest.mark.slow

POETFLOW = str(Path(sys.executable).with_name("poetflow"))

CREDENTIAL_VARIABLES = (
    "POETFLOW_TOKEN",
    "POETFLOW_REPOSITORY_LOCAL_TOKEN",
    "POETFLOW_REPOSITORY_LOCAL_USERNAME",
    "POETFLOW_REPOSITORY_LOCAL_PASSWORD",
    "POETRY_PYPI_TOKEN_LOCAL",
    "POETRY_HTTP_BASIC_LOCAL_USERNAME",
    "POETRY_HTTP_BASIC_LOCAL_PASSWORD",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "PYPI_ID_TOKEN",
)


def _planted(name: str) -> str:
    return f"planted-{name.lower().replace('_', '')}-S3cret"


# Which variables each scenario sets: the most specific one wins, so each scenario makes
# PoetFlow actually use (and send, and get refused with) a different planted secret.
SCENARIOS = {
    "everything": CREDENTIAL_VARIABLES,
    "poetry-basic": ("POETRY_HTTP_BASIC_LOCAL_USERNAME", "POETRY_HTTP_BASIC_LOCAL_PASSWORD"),
    "poetry-token": ("POETRY_PYPI_TOKEN_LOCAL",),
    "global-token": ("POETFLOW_TOKEN",),
    "half-a-pair": ("POETFLOW_REPOSITORY_LOCAL_USERNAME",),
}


@pytest.mark.parametrize("as_files", [False, True], ids=["env", "file"])
def test_planted_secrets_never_appear_in_any_output(
    diamond: Path, index_server: IndexServer, tmp_path: Path, as_files: bool
) -> None:
    base = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POETFLOW_", "POETRY_", "ACTIONS_ID_TOKEN", "PYPI_ID_TOKEN"))
    }
    base["PIP_CONFIG_FILE"] = os.devnull
    secrets = {name: _planted(name) for name in CREDENTIAL_VARIABLES}
    seen_codes = set()
    for scenario, names in SCENARIOS.items():
        env = dict(base)
        for name in names:
            if as_files and name not in ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "PYPI_ID_TOKEN"):
                secret_file = tmp_path / f"{scenario}-{name}"
                secret_file.write_text(secrets[name] + "\n", encoding="utf-8")
                env[f"{name}_FILE"] = str(secret_file)
            else:
                env[name] = secrets[name]
        for extra in (
            [],
            ["--json", "--log-level", "debug"],
            ["--dry-run", "--log-level", "debug", "--log-format", "json"],
        ):
            completed = subprocess.run(
                [POETFLOW, "publish", "--root", str(diamond), "-r", "local", "--no-build", *extra],
                env=env, capture_output=True, text=True, check=False,
            )  # fmt: skip
            output = completed.stdout + completed.stderr
            seen_codes.add(completed.returncode)
            assert "Traceback" not in output or "--log-level" in extra
            for secret in secrets.values():
                assert secret not in output, f"{scenario} {extra} leaked a secret"
    # The runs really did hit the index and the credential checks (refused, or exit 2).
    assert seen_codes == {0, 1, 2}
    assert index_server.files() == []
