"""Probe secrets at rest: Fernet encryption with the settings key.

The key is ``CALLPROBE_SECRET_KEY`` or, when unset, a key generated on first use
in ``data_dir/secret.key`` (mode 0600). Plaintext only exists on its way in from
the API and on its way out to an agent in a lease.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from api.settings import Settings

KEY_FILE = "secret.key"


class SecretKeyError(RuntimeError):
    """The configured or stored key cannot decrypt (or is not a Fernet key)."""


def encrypt_secret(settings: Settings, plaintext: str) -> bytes:
    """The ciphertext stored in the database."""
    return _fernet(_key(settings)).encrypt(plaintext.encode())


def check_key(settings: Settings) -> None:
    """Fail fast (at startup) when the key is unusable; creates the key file if needed."""
    _fernet(_key(settings))


def decrypt_secret(settings: Settings, ciphertext: bytes) -> str:
    """The plaintext of a stored secret."""
    try:
        return _fernet(_key(settings)).decrypt(ciphertext).decode()
    except InvalidToken as exc:
        raise SecretKeyError("a stored secret does not decrypt with the current key") from exc


def _key(settings: Settings) -> bytes:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    return _key_file(settings.data_dir / KEY_FILE)


def _key_file(path: Path) -> bytes:
    if not path.exists():
        # Written aside then linked into place: a racing process sees no key or a whole one.
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(Fernet.generate_key())
        try:
            os.link(aside, path)
        except FileExistsError:
            pass
        finally:
            aside.unlink()
    return path.read_bytes().strip()


@lru_cache(maxsize=8)
def _fernet(key: bytes) -> Fernet:
    try:
        return Fernet(key)
    except ValueError as exc:
        raise SecretKeyError(
            "the secret key is not a Fernet key (32 url-safe base64 bytes)"
        ) from exc
