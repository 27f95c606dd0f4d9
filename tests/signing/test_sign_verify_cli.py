"""``poetflow sign`` and ``verify`` on a really built wheel and sdist of the demo's acme-core."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sigstore_double import WORKFLOW_IDENTITY, SigstoreDouble

pytestmark = pytest.mark.slow


@pytest.fixture
def built_demo(demo_repo: Path, run_cli: Callable[..., Any]) -> Path:
    result = run_cli("build", "-p", "acme-core", cwd=demo_repo)
    assert result.exit_code == 0, result.stderr
    return demo_repo


def _dist(repo: Path) -> list[Path]:
    return sorted(
        path
        for path in (repo / "packages" / "core" / "dist").iterdir()
        if path.name.endswith((".whl", ".tar.gz"))
    )


def test_sign_then_verify_the_built_package(
    built_demo: Path,
    run_cli: Callable[..., Any],
    sigstore_double: SigstoreDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = sigstore_double.issuer.token(WORKFLOW_IDENTITY)
    monkeypatch.setenv("POETFLOW_SIGSTORE_IDENTITY_TOKEN", token)
    trust = str(sigstore_double.trust_config)

    signed = run_cli("sign", "-p", "acme-core", "--trust-config", trust, cwd=built_demo)
    assert signed.exit_code == 0, signed.stderr
    artifacts = _dist(built_demo)
    assert {path.suffix for path in artifacts} == {".whl", ".gz"}
    for artifact in artifacts:
        assert artifact.with_name(artifact.name + ".sigstore.json").is_file()
        assert artifact.with_name(artifact.name + ".publish.attestation").is_file()
        assert artifact.name in signed.stdout
    assert WORKFLOW_IDENTITY in signed.stdout
    assert token not in signed.stdout + signed.stderr

    verify_args = ["verify", "-p", "acme-core", "--trust-config", trust]
    verify_args += ["--identity", WORKFLOW_IDENTITY, "--issuer", sigstore_double.issuer.url]
    verified = run_cli(*verify_args, "--json", cwd=built_demo)
    assert verified.exit_code == 0, verified.stderr
    report = json.loads(verified.stdout)
    assert report["ok"] is True
    assert [item["status"] for item in report["artifacts"]] == ["verified", "verified"]
    assert all(item["attestation"] for item in report["artifacts"])

    wheel = next(path for path in artifacts if path.suffix == ".whl")
    with wheel.open("ab") as handle:
        handle.write(b"tampered")
    rejected = run_cli(*verify_args, cwd=built_demo)
    assert rejected.exit_code == 1
    assert f"{wheel.name}: the artifact does not match its signature" in rejected.stderr
    assert "Traceback" not in rejected.stderr


def test_verify_settings_from_pyproject_and_wrong_identity(
    built_demo: Path,
    run_cli: Callable[..., Any],
    sigstore_double: SigstoreDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "POETFLOW_SIGSTORE_IDENTITY_TOKEN", sigstore_double.issuer.token(WORKFLOW_IDENTITY)
    )
    pyproject = built_demo / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + "\n[tool.poetflow.signing]\n"
        + f'trust-config = "{sigstore_double.trust_config}"\n'
        + f'identity = "{WORKFLOW_IDENTITY}"\n'
        + f'issuer = "{sigstore_double.issuer.url}"\n'
    )
    assert run_cli("sign", "-p", "acme-core", cwd=built_demo).exit_code == 0
    assert run_cli("verify", "-p", "acme-core", cwd=built_demo).exit_code == 0

    other = "https://github.com/evil/fork/.github/workflows/release.yml@refs/heads/main"
    wrong = run_cli("verify", "-p", "acme-core", "--identity", other, cwd=built_demo)
    assert wrong.exit_code == 1
    assert f"wrong identity: it was signed by {WORKFLOW_IDENTITY}, not {other}" in wrong.stderr

    wrong_issuer = run_cli(
        "verify", "-p", "acme-core", "--issuer", "https://gitlab.com", cwd=built_demo
    )
    assert wrong_issuer.exit_code == 1
    assert "wrong issuer" in wrong_issuer.stderr


def test_sign_dry_run_and_missing_pieces(
    built_demo: Path,
    run_cli: Callable[..., Any],
    sigstore_double: SigstoreDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trust = str(sigstore_double.trust_config)
    no_token = run_cli("sign", "-p", "acme-core", "--trust-config", trust, cwd=built_demo)
    assert no_token.exit_code == 2
    assert "POETFLOW_SIGSTORE_IDENTITY_TOKEN" in no_token.stderr
    assert "Traceback" not in no_token.stderr

    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    in_actions = run_cli("sign", "-p", "acme-core", "--trust-config", trust, cwd=built_demo)
    assert in_actions.exit_code == 2
    assert "permissions: id-token: write" in in_actions.stderr
    monkeypatch.delenv("GITHUB_ACTIONS")

    monkeypatch.setenv(
        "POETFLOW_SIGSTORE_IDENTITY_TOKEN", sigstore_double.issuer.token(WORKFLOW_IDENTITY)
    )
    requests_before = len(sigstore_double.ca._service.requests)
    dry = run_cli("sign", "-p", "acme-core", "--trust-config", trust, "--dry-run", cwd=built_demo)
    assert dry.exit_code == 0, dry.stderr
    assert "Would sign 2 file(s)" in dry.stdout
    assert len(sigstore_double.ca._service.requests) == requests_before
    assert not list((built_demo / "packages" / "core" / "dist").glob("*.sigstore.json"))

    unbuilt = run_cli("sign", "-p", "acme-app", "--trust-config", trust, cwd=built_demo)
    assert unbuilt.exit_code == 2
    assert "poetflow build" in unbuilt.stderr

    no_identity = run_cli("verify", "-p", "acme-core", cwd=built_demo)
    assert no_identity.exit_code == 2
    assert "--identity and --issuer" in no_identity.stderr


def test_verify_named_files_outside_a_monorepo(
    tmp_path: Path, run_cli: Callable[..., Any], published: Path
) -> None:
    """A consumer checks a downloaded wheel: no monorepo, the public-good root, offline."""
    identity = (
        "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"
    )
    args = ["verify", "--offline", "--identity", identity]
    args += ["--issuer", "https://token.actions.githubusercontent.com"]
    ok = run_cli(*args, published / "bundle_v3_github.whl", cwd=tmp_path)
    assert ok.exit_code == 0, ok.stderr
    assert "verified" in ok.stdout
    missing = run_cli(*args, published / "bundle.txt", published / "README.md", cwd=tmp_path)
    assert missing.exit_code == 1
    assert "README.md.sigstore.json beside it" in missing.stderr


def test_default_selection_skips_unbuilt_packages(
    built_demo: Path,
    run_cli: Callable[..., Any],
    sigstore_double: SigstoreDouble,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "POETFLOW_SIGSTORE_IDENTITY_TOKEN", sigstore_double.issuer.token(WORKFLOW_IDENTITY)
    )
    trust = str(sigstore_double.trust_config)
    signed = run_cli("sign", "--trust-config", trust, "--json", cwd=built_demo)
    assert signed.exit_code == 0, signed.stderr
    assert len(json.loads(signed.stdout)["artifacts"]) == 2
    assert "Skipped (nothing built for the current version): acme-app" in signed.stderr


def _hooks(repo: Path, log: Path, pre: str) -> None:
    pyproject = repo / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text()
        + "\n[tool.poetflow.hooks]\n"
        + f'pre-sign = ["{pre}"]\n'
        # Each artifact's bundle must exist by the time post-sign runs.
        + 'post-sign = [\'for f in $(echo $POETFLOW_ARTIFACTS | tr : " "); do '
        + f"test -f $f.sigstore.json && echo post $POETFLOW_PACKAGE $(basename $f) >> {log}; "
        + "done']\n"
    )


def test_sign_runs_the_sign_hooks_and_writes_a_run_report(
    built_demo: Path,
    run_cli: Callable[..., Any],
    sigstore_double: SigstoreDouble,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv(
        "POETFLOW_SIGSTORE_IDENTITY_TOKEN", sigstore_double.issuer.token(WORKFLOW_IDENTITY)
    )
    log = tmp_path / "hooks.log"
    _hooks(built_demo, log, f"echo pre $POETFLOW_PACKAGE >> {log}")
    reports = tmp_path / "reports"
    trust = str(sigstore_double.trust_config)

    dry = run_cli("sign", "-p", "acme-core", "--trust-config", trust, "--dry-run", cwd=built_demo)
    assert dry.exit_code == 0, dry.stderr
    assert not log.exists()  # hooks are only described in a dry run

    args = ["sign", "-p", "acme-core", "--trust-config", trust, "--report-dir", str(reports)]
    signed = run_cli(*args, cwd=built_demo)
    assert signed.exit_code == 0, signed.stderr
    artifacts = _dist(built_demo)
    lines = log.read_text().splitlines()
    assert lines[0] == "pre acme-core"
    assert sorted(lines[1:]) == [f"post acme-core {path.name}" for path in artifacts]
    report = json.loads((reports / "poetflow-report.json").read_text())
    assert report["command"] == "poetflow sign"
    (core,) = report["packages"]
    assert core["name"] == "acme-core"
    assert [stage["status"] for stage in core["stages"]] == ["signed"]
    assert {Path(item["path"]).name for item in core["artifacts"]} == {p.name for p in artifacts}
    assert all(item["signed"] for item in core["artifacts"])


def test_a_failing_pre_sign_hook_signs_nothing(
    built_demo: Path,
    run_cli: Callable[..., Any],
    sigstore_double: SigstoreDouble,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv(
        "POETFLOW_SIGSTORE_IDENTITY_TOKEN", sigstore_double.issuer.token(WORKFLOW_IDENTITY)
    )
    _hooks(built_demo, tmp_path / "hooks.log", "exit 3")
    trust = str(sigstore_double.trust_config)
    requests_before = len(sigstore_double.ca._service.requests)
    refused = run_cli("sign", "-p", "acme-core", "--trust-config", trust, cwd=built_demo)
    assert refused.exit_code == 1
    assert "pre-sign" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not list((built_demo / "packages" / "core" / "dist").glob("*.sigstore.json"))
    assert len(sigstore_double.ca._service.requests) == requests_before
