"""Encryption of credentials at rest with Fernet; the key comes from the environment or a 0600 file under DAGSTER_HOME."""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

SECRET_KEY_ENV_VAR = "WALMART_ACCOUNTING_SECRET_KEY"
KEY_FILE_NAME = "walmart_accounting.key"


class CredentialError(RuntimeError):
    """A credential cannot be decrypted or the key is unusable. Never carries the secret itself."""


def _fernet_from(keys_text: str, origin: str) -> MultiFernet:
    keys = [k.strip() for k in keys_text.split(",") if k.strip()]
    if not keys:
        raise CredentialError(f"{origin} is empty; expected a Fernet key (walmart-accounting secret-key generates one)")
    try:
        # The first key encrypts; every key decrypts, so keys can be rotated.
        return MultiFernet([Fernet(k.encode("ascii")) for k in keys])
    except (ValueError, UnicodeEncodeError):
        raise CredentialError(
            f"{origin} is not a valid Fernet key: expected 32 url-safe base64-encoded bytes"
        ) from None


def key_file(state_dir: Path) -> Path:
    return state_dir / KEY_FILE_NAME


def load_or_create_local_key(state_dir: Path) -> str:
    """The local key file's key, created once with mode 0600 if missing (for local use, not production)."""
    path = key_file(state_dir)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise CredentialError(f"{path} is readable by others (mode {mode:o}); chmod 600 it") from None
        return path.read_text("ascii").strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(Fernet.generate_key().decode("ascii"))
    return path.read_text("ascii").strip()


class Cipher:
    """Encrypts and decrypts credential blobs with the configured key."""

    def __init__(self, fernet: MultiFernet, origin: str):
        self._fernet = fernet
        self.origin = origin

    @classmethod
    def from_environment(cls, state_dir: Path) -> "Cipher":
        """Key from $WALMART_ACCOUNTING_SECRET_KEY, else the local key file (generated once)."""
        env_key = os.environ.get(SECRET_KEY_ENV_VAR)
        if env_key is not None:
            return cls(_fernet_from(env_key, SECRET_KEY_ENV_VAR), SECRET_KEY_ENV_VAR)
        path = key_file(state_dir)
        return cls(_fernet_from(load_or_create_local_key(state_dir), str(path)), str(path))

    @classmethod
    def from_key(cls, key: str) -> "Cipher":
        return cls(_fernet_from(key, "the given key"), "the given key")

    def encrypt(self, plaintext: bytes) -> bytes:
        return self._fernet.encrypt(plaintext)

    def decrypt(self, ciphertext: bytes, name: str) -> bytes:
        try:
            return self._fernet.decrypt(ciphertext)
        except InvalidToken:
            raise CredentialError(
                f"cannot decrypt stored credential {name!r} with the key from {self.origin}: "
                f"it was stored with a different key. Restore the original {SECRET_KEY_ENV_VAR} "
                f"(or key file), or reconnect with `walmart-accounting connect`."
            ) from None
