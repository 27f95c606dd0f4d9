"""Which Sigstore instance: command line over environment over [tool.poetflow.signing]."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from poetflow.errors import ConfigError, SigningSetupError
from poetflow.signing.options import (
    SigningOptions,
    SigningSettings,
    parse_signing,
    signing_options,
)
from poetflow.signing.sign import sign_artifacts
from poetflow.signing.verify import verify_artifacts
from poetflow.tables import Table


def _settings(table: dict[str, object]) -> SigningSettings:
    return parse_signing(Table(table, "pyproject.toml", "tool.poetflow.signing"))


def _config(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    return path


def test_public_good_is_the_default() -> None:
    options = signing_options(environ={})
    assert options == SigningOptions()
    assert options.instance == "the public-good Sigstore"


def test_staging_from_the_config_file() -> None:
    assert signing_options(_settings({"staging": True}), environ={}).staging


def test_relative_trust_config_is_relative_to_the_root(tmp_path: Path) -> None:
    path = _config(tmp_path / "sigstore" / "trust.json")
    options = signing_options(
        _settings({"trust-config": "sigstore/trust.json"}), root=tmp_path, environ={}
    )
    assert options.trust_config == path


def test_command_line_beats_environment_beats_file(tmp_path: Path) -> None:
    from_file = _config(tmp_path / "file.json")
    from_env = _config(tmp_path / "env.json")
    from_cli = _config(tmp_path / "cli.json")
    env = {"POETFLOW_SIGSTORE_TRUST_CONFIG": str(from_env)}
    section = _settings({"trust-config": str(from_file)})
    assert signing_options(section, environ={}).trust_config == from_file
    assert signing_options(section, environ=env).trust_config == from_env
    assert signing_options(section, trust_config=from_cli, environ=env).trust_config == from_cli


def test_missing_trust_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SigningSetupError, match=r"absent\.json does not exist") as caught:
        signing_options(trust_config=tmp_path / "absent.json", environ={})
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"trust_config": "x"}, "unknown key"),
        ({"staging": "yes"}, "staging must be true or false"),
        ({"trust-config": 3}, "trust-config must be a path string"),
    ],
)
def test_bad_settings_are_named(section: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        _settings(section)
    assert caught.value.exit_code == 2


def test_a_file_that_is_no_trust_config_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.json"
    bogus.write_text(json.dumps({"mediaType": "application/json"}))
    artifact = tmp_path / "a.txt"
    artifact.write_text("a")
    options = SigningOptions(trust_config=bogus, identity_token=None)
    with pytest.raises(SigningSetupError, match="is not a ClientTrustConfig or trusted root"):
        verify_artifacts([artifact], "me@acme.test", "https://issuer.test", options)


def test_signing_a_missing_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(SigningSetupError, match="no such file") as caught:
        sign_artifacts([tmp_path / "absent.whl"], SigningOptions())
    assert caught.value.exit_code == 2


def test_verify_needs_identity_and_issuer(tmp_path: Path) -> None:
    with pytest.raises(SigningSetupError, match="identity and OIDC issuer"):
        verify_artifacts([tmp_path / "a"], "", "https://issuer.test", SigningOptions())
