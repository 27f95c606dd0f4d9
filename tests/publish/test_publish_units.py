"""Repository lookup, credential precedence, retry timing and simple-page parsing."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from poetflow.errors import MissingCredentialsError, PublishError
from poetflow.index import HttpResponse, parse_project_page
from poetflow.masking import mask
from poetflow.publish.credentials import Credentials, TrustedPublishing, resolve_credentials
from poetflow.publish.repositories import Repository, resolve_repository
from poetflow.publish.retry import Retrying, RetryPolicy, retry_after_seconds
from poetflow.workspace import load_workspace


def _workspace(tmp_path: Path, extra: str = "") -> object:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.poetflow]\npackages = ["packages/*"]\n' + extra, encoding="utf-8"
    )
    return load_workspace(tmp_path)


def test_repositories_come_from_config_poetry_env_poetry_config_and_builtins(
    tmp_path: Path,
) -> None:
    workspace = _workspace(
        tmp_path,
        '[tool.poetflow.repositories.internal]\nurl = "https://pkgs.example.com/legacy/"\n',
    )
    internal = resolve_repository(workspace, "internal", env={})  # type: ignore[arg-type]
    assert internal.index_url == "https://pkgs.example.com/simple/"
    env = {"POETRY_REPOSITORIES_MY_CORP_URL": "https://corp.example.com/"}
    corp = resolve_repository(workspace, "my-corp", env=env)  # type: ignore[arg-type]
    assert (corp.url, corp.index_url) == (
        "https://corp.example.com/",
        "https://corp.example.com/simple/",
    )
    config_dir = tmp_path / "poetry"
    config_dir.mkdir()
    (config_dir / "config.toml").write_text(
        '[repositories.other]\nurl = "https://other.example.com/simple/"\n', encoding="utf-8"
    )
    other = resolve_repository(workspace, "other", env={"POETRY_CONFIG_DIR": str(config_dir)})  # type: ignore[arg-type]
    assert other.index_url == "https://other.example.com/simple/"
    pypi = resolve_repository(workspace, None, env={})  # type: ignore[arg-type]
    assert pypi.url == "https://upload.pypi.org/legacy/"
    with pytest.raises(PublishError, match="Unknown repository 'nowhere'"):
        resolve_repository(workspace, "nowhere", env={})  # type: ignore[arg-type]


def test_most_specific_credentials_win_and_are_masked(tmp_path: Path) -> None:
    repository = Repository(
        "corp", "https://corp.example.com/", "https://corp.example.com/simple/", "x"
    )
    token_file = tmp_path / "token"
    token_file.write_text("file-token-value-123\n", encoding="utf-8")
    env = {
        "POETFLOW_TOKEN": "global-token-value-456",
        "POETRY_HTTP_BASIC_CORP_USERNAME": "basic-user",
        "POETRY_HTTP_BASIC_CORP_PASSWORD": "basic-password-789",
        "POETFLOW_REPOSITORY_CORP_TOKEN_FILE": str(token_file),
    }
    found = resolve_credentials(repository, env)
    assert isinstance(found, Credentials)
    assert found.auth == ("__token__", "file-token-value-123")
    assert "file-token-value-123" not in repr(found)
    for secret in ("file-token-value-123", "global-token-value-456", "basic-password-789"):
        assert mask(f"x {secret} y") == "x *** y"
    del env["POETFLOW_REPOSITORY_CORP_TOKEN_FILE"]
    assert (
        resolve_credentials(repository, env).source == "POETRY_HTTP_BASIC_CORP_USERNAME/_PASSWORD"
    )  # type: ignore[union-attr]
    github = {
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://gh/x",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "rt-1234",
    }
    assert isinstance(resolve_credentials(repository, github), TrustedPublishing)
    with pytest.raises(MissingCredentialsError, match="POETFLOW_REPOSITORY_CORP_TOKEN"):
        resolve_credentials(repository, {})
    with pytest.raises(PublishError, match="POETFLOW_TOKEN_FILE points at"):
        resolve_credentials(repository, {"POETFLOW_TOKEN_FILE": str(tmp_path / "missing")})


def test_retry_backs_off_exponentially_honours_retry_after_and_stops() -> None:
    waits: list[float] = []
    policy = RetryPolicy(attempts=4, base=1.0, max_delay=30.0, deadline=1000.0)
    retrying = Retrying(policy, sleep=waits.append, rng=random.Random(1))
    busy = HttpResponse(503, "u", "", {"Retry-After": "7"})
    assert retrying.should_retry(None)
    assert retrying.should_retry(None)
    assert retrying.should_retry(busy)
    assert not retrying.should_retry(None)  # the fourth attempt was the last
    assert 0.5 <= waits[0] <= 1.0
    assert 1.0 <= waits[1] <= 2.0
    assert waits[2] >= 7.0
    forbidden = Retrying(policy, sleep=waits.append)
    assert not forbidden.should_retry(HttpResponse(403, "u", ""))
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0


def test_simple_pages_parse_as_pep691_json_and_pep503_html() -> None:
    payload = {
        "meta": {"api-version": "1.1"},
        "name": "acme",
        "files": [{"filename": "acme-1.0.tar.gz", "url": "../../files/acme-1.0.tar.gz",
                   "hashes": {"sha256": "AB" * 32}}],
    }  # fmt: skip
    json_page = HttpResponse(
        200, "https://idx/simple/acme/", json.dumps(payload),
        {"Content-Type": "application/vnd.pypi.simple.v1+json"},
    )  # fmt: skip
    files = parse_project_page(json_page)
    assert files["acme-1.0.tar.gz"].sha256 == "ab" * 32
    assert files["acme-1.0.tar.gz"].url == "https://idx/files/acme-1.0.tar.gz"
    html = (
        '<html><body><a href="../../packages/acme-1.0-py3-none-any.whl#sha256=' + "cd" * 32
        + '">acme-1.0-py3-none-any.whl</a><a href="/p/acme-1.0.tar.gz#md5=00">x</a></body></html>'
    )  # fmt: skip
    files = parse_project_page(HttpResponse(200, "https://idx/simple/acme/", html, {}))
    assert files["acme-1.0-py3-none-any.whl"].sha256 == "cd" * 32
    assert files["acme-1.0.tar.gz"].sha256 is None  # md5 only: PoetFlow downloads and hashes


def test_default_repository_comes_from_the_publish_section(tmp_path: Path) -> None:
    workspace = _workspace(
        tmp_path,
        '[tool.poetflow.publish]\nrepository = "internal"\n'
        '[tool.poetflow.repositories.internal]\nurl = "https://pkgs.example.com/"\n'
        'index-url = "https://mirror.example.com/simple/"\n',
    )
    repository = resolve_repository(workspace, None, env={})  # type: ignore[arg-type]
    assert (repository.name, repository.index_url) == (
        "internal",
        "https://mirror.example.com/simple/",
    )
