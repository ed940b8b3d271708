"""Sealing what could find a person in need (contact details, the exact place, what they wrote) before it is stored.

Fernet tokens (AES-128-CBC with HMAC-SHA256) under a MultiFernet: the first key of `ALERTS_DATA_KEYS` seals, every
key unseals, so a new key is put first and the old ones stay until `rotate` has sealed everything again
(services/alerts/README.md). No key configured (the embedded default): one is made in `ALERTS_DATA_KEY_FILE`,
readable by its owner only, the first time the service starts.
"""

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class SealBroken(Exception):
    """A sealed value none of the configured keys opens: a key was removed too early, or the data was altered."""


class Sealer:
    def __init__(self, keys: list[bytes]):
        if not keys:
            raise ValueError("at least one data key is needed")
        self._newest = Fernet(keys[0])
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def seal(self, text: str | None) -> str | None:
        return None if text is None else self._fernet.encrypt(text.encode()).decode()

    def unseal(self, token: str | None) -> str | None:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SealBroken("a sealed value cannot be opened with the configured ALERTS_DATA_KEYS") from None

    def rotate(self, token: str | None) -> str | None:
        """The same value sealed with the first key."""
        return None if token is None else self._fernet.rotate(token.encode()).decode()

    def sealed_with_an_older_key(self, token: str | None) -> bool:
        if token is None:
            return False
        try:
            self._newest.decrypt(token.encode())
        except InvalidToken:
            return True
        return False


def keys_from(data_keys: str, key_file: Path) -> list[bytes]:
    """The comma-separated keys of `ALERTS_DATA_KEYS`; none: the one in `key_file`, made there if missing."""
    configured = [key.strip().encode() for key in data_keys.split(",") if key.strip()]
    return configured or [_key_in_file(key_file)]


def _key_in_file(path: Path) -> bytes:
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes().strip()
        with os.fdopen(descriptor, "wb") as file:
            file.write(Fernet.generate_key())
    return path.read_bytes().strip()
