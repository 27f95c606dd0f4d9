"""Secret masking: every credential PoetFlow reads is registered here and hidden in all output.

This module also holds the one table of environment variables that carry secrets: the
credential lookup, the CI masks and the environment handed to hooks all read it. A CI
system that masks on its side too subscribes with :func:`on_secret` and hears of every
secret as it is registered, so it is told before anything can print it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import unquote

from poetflow.urls import url_passwords

__all__ = [
    "HEADER_VARIABLES",
    "SECRET_VARIABLES",
    "SECRET_VARIABLE_PREFIXES",
    "MaskingFilter",
    "is_credential_variable",
    "is_secret_variable",
    "mask",
    "on_secret",
    "register_environment_secrets",
    "register_process_secrets",
    "register_secret",
    "registered_secrets",
    "secret_from_environment",
]

# Variables PoetFlow reads a secret from, by name (each also as NAME_FILE: a file holding it).
SECRET_VARIABLES: tuple[str, ...] = (
    "POETFLOW_TOKEN",  # any index
    "POETFLOW_ID_TOKEN",  # trusted publishing outside GitHub (an OIDC token)
    "PYPI_ID_TOKEN",  # GitLab's id_tokens for trusted publishing
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",  # GitHub's bearer for its OIDC token endpoint
    "POETFLOW_SIGSTORE_IDENTITY_TOKEN",  # an OIDC token for Sigstore signing
    "SIGSTORE_ID_TOKEN",  # the variable sigstore-python's own CLI reads
    "POETFLOW_CACHE_TOKEN",  # the remote task cache
    "GITHUB_TOKEN",  # GitHub releases and pull requests
    "GITLAB_TOKEN",  # GitLab releases and merge requests
    "CI_JOB_TOKEN",  # GitLab's per-job token
)
# Per-repository variables (NAME is the repository's name, upper-cased): every one of
# them is a secret (usernames included) except the URLs.
SECRET_VARIABLE_PREFIXES: tuple[str, ...] = (
    "POETFLOW_REPOSITORY_",  # _TOKEN, _USERNAME, _PASSWORD
    "POETRY_PYPI_TOKEN_",
    "POETRY_HTTP_BASIC_",  # _USERNAME, _PASSWORD
)
_NOT_SECRET_SUFFIXES = ("_URL",)
# OpenTelemetry's exporter headers (read by the SDK when telemetry is on) carry API keys:
# "key=value,key2=value2", each value a secret.
HEADER_VARIABLES: tuple[str, ...] = (
    "OTEL_EXPORTER_OTLP_HEADERS",
    "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
    "OTEL_EXPORTER_OTLP_METRICS_HEADERS",
)
# Words that mark any other variable as a credential: hooks never see such variables
# unless they name them in pass-env (a docs generator has no business with the upload token).
_CREDENTIAL_WORDS = ("TOKEN", "PASSWORD", "SECRET", "API_KEY", "APIKEY", "PRIVATE_KEY")
_CREDENTIAL_PREFIXES = ("TWINE_",)

_MASK = "***"
_lock = threading.Lock()
# What mask() hides: every secret and, for a multi-line one, each of its lines (output
# is printed line by line, so its lines appear apart from each other).
_secrets: set[str] = set()
# The secrets as registered, in order, for listeners that subscribe later.
_registered: dict[str, None] = {}
_listeners: list[Callable[[str], None]] = []

# Short values would mask ordinary words all over the output; real tokens are longer.
_MIN_SECRET_LENGTH = 4
_MIN_HEADER_SECRET_LENGTH = 12


# The password of a URL's userinfo, wherever a URL is printed: hidden even when no variable
# named it (a git remote, a URL in a config file PoetFlow does not read).
# The lookbehind starts a scheme only at the start of a word: without it, every letter of a
# long run (a base64 blob in a build log) would start a scan, quadratic in its length.
_USERINFO_RE = re.compile(r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*://[^:/?#@\s]*):[^/?#\s]*@")


def register_secret(value: str | None) -> None:
    """Remember ``value`` so that :func:`mask` hides it everywhere from now on, also as it
    appears inside JSON and inside a Python repr (quotes and backslashes escaped), and tell
    the listeners (a CI system's mask writer) of it, once."""
    if not value or len(value) < _MIN_SECRET_LENGTH:
        return
    with _lock:
        if value in _registered:
            return
        _registered[value] = None
        forms = {value, json.dumps(value)[1:-1], repr(value)[1:-1]}
        forms.update(line for line in value.splitlines() if len(line.strip()) >= _MIN_SECRET_LENGTH)
        _secrets.update(form for form in forms if len(form) >= _MIN_SECRET_LENGTH)
        listeners = list(_listeners)
    for listener in listeners:
        listener(value)


def registered_secrets() -> frozenset[str]:
    """The secrets as registered (a multi-line one as one value)."""
    with _lock:
        return frozenset(_registered)


def on_secret(listener: Callable[[str], None]) -> Callable[[], None]:
    """Call ``listener`` with every secret registered so far and from now on; returns
    the function that unsubscribes it."""
    with _lock:
        _listeners.append(listener)
        known = list(_registered)
    for secret in known:
        listener(secret)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def mask(text: str) -> str:
    """Replace every registered secret in ``text`` with ``***`` (longest first)."""
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, _MASK)
    if "://" in text and "@" in text:
        text = _USERINFO_RE.sub(rf"\1:{_MASK}@", text)
    return text


class MaskingFilter(logging.Filter):
    """Masks secrets in every log record, whatever handler or format prints it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask(message)
        if masked != message or record.args:
            record.msg = masked
            record.args = None
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


def is_secret_variable(name: str) -> bool:
    """True for the variables of :data:`SECRET_VARIABLES` and the per-repository ones."""
    base = name.removesuffix("_FILE")
    if base in SECRET_VARIABLES:
        return True
    return base.startswith(SECRET_VARIABLE_PREFIXES) and not base.endswith(_NOT_SECRET_SUFFIXES)


def is_credential_variable(name: str) -> bool:
    """True for every variable that may carry a credential: PoetFlow's own secret
    variables and, by its name, anything else that looks like one (``*_TOKEN``, ...)."""
    upper = name.upper()
    if is_secret_variable(upper) or upper.startswith(_CREDENTIAL_PREFIXES):
        return True
    return any(word in upper for word in _CREDENTIAL_WORDS)


def register_environment_secrets(env: Mapping[str, str]) -> list[str]:
    """Register the value of every secret variable in ``env`` (and the content of the file
    a ``*_FILE`` one names); returns them, for CI systems that mask on their side too."""
    found: list[str] = []
    for name, value in env.items():
        if not value or not is_secret_variable(name):
            continue
        secrets = [value]
        if name.endswith("_FILE"):  # the path is no secret, what the file holds is
            secrets = []
            with contextlib.suppress(OSError, UnicodeDecodeError):
                secrets = [Path(value).read_text(encoding="utf-8").strip()]
        for secret in secrets:
            if secret and secret not in found:
                register_secret(secret)
                found.append(secret)
    return found


def secret_from_environment(env: Mapping[str, str], name: str) -> str | None:
    """The value of ``name``, else what the file ``name_FILE`` names holds (None when
    neither is set or the file cannot be read); registered for masking either way."""
    value = env.get(name) or None
    file_name = env.get(f"{name}_FILE")
    if value is None and file_name:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            value = Path(file_name).read_text(encoding="utf-8").strip() or None
    register_secret(value)
    return value


def _header_values(value: str) -> list[str]:
    """The values of an OTLP headers variable ("api-key=abc,x-team=def"), URL-decoded."""
    found = []
    for item in value.split(","):
        _key, equals, header = item.partition("=")
        # Any header may hold the key (x-honeycomb-team does), but a short value is a
        # team or tenant name, and masking it would hide that word in all output.
        if equals and len(header.strip()) >= _MIN_HEADER_SECRET_LENGTH:
            found.append(unquote(header.strip()))
    return found


def register_process_secrets(argv: Sequence[str], env: Mapping[str, str]) -> list[str]:
    """Everything a command could print that is a credential, registered once before it
    runs: the secret variables (and what their ``*_FILE`` files hold), OTLP header values,
    the password of every URL with userinfo in the command line or the environment
    (``--repository-url https://user:PASSWORD@host/``, ``POETFLOW_CACHE_URL``), and the
    tokens and passwords Poetry's ``auth.toml`` holds."""
    from poetflow.publish.poetry_auth import auth_file_secrets

    found = register_environment_secrets(env)
    extra = [value for name in HEADER_VARIABLES for value in _header_values(env.get(name, ""))]
    extra += auth_file_secrets(env)  # what `poetry config` stored in plain text
    extra += url_passwords([*argv, *env.values()])
    for secret in extra:
        if secret not in found:
            register_secret(secret)
            found.append(secret)
    return found
