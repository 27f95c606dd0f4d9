"""Credentials that ``poetry config`` stored: Poetry's ``auth.toml`` and the system keyring.

``poetry config pypi-token.NAME TOKEN`` and ``poetry config http-basic.NAME USER PASS``
put the secret in the system keyring when one is available (service
``poetry-repository-NAME``; user ``__token__`` for a token) and otherwise in plain text in
``auth.toml`` in Poetry's configuration folder; the username of ``http-basic`` always
goes to ``auth.toml``. This module reads both places the way Poetry does, and registers
every value with :mod:`poetflow.masking` before returning it.

The keyring library is imported only when a lookup gets this far and a keyring could
exist at all (see :func:`_keyring_may_answer`); a missing library, a locked keyring or a
broken backend just means "not found": a desktop keyring must never stop, or slow, a CI
run that has its credentials elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from poetflow.masking import register_secret

__all__ = [
    "KEYRING_SERVICE_PREFIX",
    "StoredCredential",
    "auth_file",
    "auth_file_secrets",
    "stored_credentials",
]

logger = logging.getLogger(__name__)

KEYRING_SERVICE_PREFIX = "poetry-repository-"
_TOKEN_USER = "__token__"


@dataclass(frozen=True)
class StoredCredential:
    """A username and secret from Poetry's store; ``source`` says where, in words."""

    username: str
    password: str = field(repr=False)
    source: str


def _config_dir(env: Mapping[str, str]) -> Path:
    # Imported here: masking reads auth.toml at start-up, before any workspace is needed.
    from poetflow.publish.repositories import poetry_config_dir

    return poetry_config_dir(env)


def _env_key(name: str) -> str:
    from poetflow.publish.repositories import env_key

    return env_key(name)


def auth_file(env: Mapping[str, str]) -> Path:
    """Poetry's ``auth.toml`` (``POETRY_CONFIG_DIR`` overrides the folder, as in Poetry)."""
    return _config_dir(env) / "auth.toml"


def auth_file_secrets(env: Mapping[str, str]) -> list[str]:
    """Every secret ``auth.toml`` holds in plain text (tokens, passwords), for masking
    before a command runs; the keyring's are registered as they are read."""
    auth = _read(auth_file(env))
    found: list[str] = []
    tokens = auth.get("pypi-token")
    if isinstance(tokens, Mapping):
        found += [value for value in tokens.values() if isinstance(value, str) and value]
    basic = auth.get("http-basic")
    if isinstance(basic, Mapping):
        for entry in basic.values():
            password = entry.get("password") if isinstance(entry, Mapping) else None
            if isinstance(password, str) and password:
                found.append(password)
    return found


def _read(path: Path) -> Mapping[str, Any]:
    if not path.is_file():
        return {}
    from poetflow.tomlfile import read_toml

    try:
        return read_toml(path)
    except Exception:  # a broken auth.toml is Poetry's to report; here it holds nothing
        logger.debug("cannot read %s", path, exc_info=True)
        return {}


def _entry(table: Any, name: str) -> tuple[str, Any] | None:
    """The entry for repository ``name``: by its exact name, else by Poetry's
    environment-variable spelling of it (``my-repo`` and ``MY_REPO`` are one)."""
    if not isinstance(table, Mapping):
        return None
    if name in table:
        return name, table[name]
    for key, value in table.items():
        if _env_key(str(key)) == _env_key(name):
            return str(key), value
    return None


def _keyring_enabled(env: Mapping[str, str]) -> bool:
    """Poetry's ``keyring.enabled`` setting (``POETRY_KEYRING_ENABLED`` overrides it)."""
    value = env.get("POETRY_KEYRING_ENABLED")
    if value is not None:
        return value.strip().lower() not in ("0", "false", "no", "off", "")
    config = _read(_config_dir(env) / "config.toml").get("keyring")
    if isinstance(config, Mapping) and isinstance(config.get("enabled"), bool):
        return bool(config["enabled"])
    return True


# Backends that hold nothing: selecting one is the documented way to switch keyrings off.
_NO_KEYRING = ("keyring.backends.null.Keyring", "keyring.backends.fail.Keyring")


def _keyring_may_answer(env: Mapping[str, str]) -> bool:
    """Could a keyring hold anything here? Answered without importing keyring, which
    costs a good part of a second: a CI job with its token in the environment must not
    pay that for a keyring it cannot have.

    A backend chosen by PYTHON_KEYRING_BACKEND or keyringrc.cfg is asked (unless it is
    the null or fail backend); macOS and Windows always have one; elsewhere the desktop
    keyrings (Secret Service, KWallet) need a D-Bus session.
    """
    import sys

    chosen = env.get("PYTHON_KEYRING_BACKEND", "").strip()
    if chosen:
        return chosen not in _NO_KEYRING
    if sys.platform in ("darwin", "win32"):
        return True
    home = Path(env.get("HOME") or Path.home())
    config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    if (config / "python_keyring" / "keyringrc.cfg").is_file():
        return True
    return bool(env.get("DBUS_SESSION_BUS_ADDRESS"))


def _from_keyring(name: str, username: str) -> str | None:
    """The secret Poetry stored for ``name`` / ``username``; None on any keyring trouble."""
    try:
        import keyring
        from keyring.backends.fail import Keyring as FailKeyring

        backend = keyring.get_keyring()
        if isinstance(backend, FailKeyring):
            return None
        value = keyring.get_password(f"{KEYRING_SERVICE_PREFIX}{name}", username)
    except Exception:  # ImportError, KeyringLocked, a backend that cannot start, ...
        logger.debug("the keyring could not be read for %s", name, exc_info=True)
        return None
    return value or None


def _keep(username: str, password: str, source: str) -> StoredCredential:
    register_secret(password)
    return StoredCredential(username, password, source)


def stored_credentials(name: str, env: Mapping[str, str]) -> StoredCredential | None:
    """What ``poetry config`` stored for repository ``name``, in Poetry's order: the
    ``pypi-token`` (auth.toml, then keyring), then ``http-basic`` (the password from
    auth.toml, else from the keyring). None when nothing is stored."""
    path = auth_file(env)
    auth = _read(path)
    use_keyring = _keyring_enabled(env) and _keyring_may_answer(env)
    token = _entry(auth.get("pypi-token"), name)
    if token is not None and isinstance(token[1], str) and token[1]:
        return _keep(_TOKEN_USER, token[1], f"{path}: pypi-token.{token[0]}")
    if use_keyring:
        secret = _from_keyring(name, _TOKEN_USER)
        if secret:
            return _keep(
                _TOKEN_USER, secret, f"the keyring: {KEYRING_SERVICE_PREFIX}{name} (pypi-token)"
            )
    basic = _entry(auth.get("http-basic"), name)
    if basic is None or not isinstance(basic[1], Mapping):
        return None
    key, entry = basic
    username = entry.get("username")
    if not isinstance(username, str) or not username:
        return None
    password = entry.get("password")
    if isinstance(password, str) and password:
        return _keep(username, password, f"{path}: http-basic.{key}")
    if use_keyring:
        secret = _from_keyring(key, username)
        if secret:
            return _keep(
                username,
                secret,
                f"the keyring: {KEYRING_SERVICE_PREFIX}{key} (http-basic, user from {path})",
            )
    return None
