"""Secrets at rest and in transit: field encryption, keyed lookup hashes, passwords, tokens."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fangkong.core.clock import utc_now
from fangkong.core.config import Settings
from fangkong.core.errors import Unauthenticated
from fangkong.core.messages import CORE

_KEY_VERSION = b"\x01"


class FieldCipher:
    """AES-256-GCM for identifiers at rest, plus an HMAC-SHA256 keyed hash for exact lookup.

    Ciphertext layout: one key-version byte, a 12-byte random nonce, then the GCM output.
    The keyed hash is deterministic, so an equality lookup needs no decryption, and without the
    lookup key it cannot be reversed by hashing every possible identity number.
    """

    def __init__(self, encryption_key: bytes, lookup_key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # (imported when used)

        self._aead = AESGCM(encryption_key)
        self._lookup_key = lookup_key
        # HMAC (RFC 2104) with its two padded-key states computed once: a bulk import hashes
        # millions of values, and copying a hash state is cheaper than keying a new HMAC.
        block = hashlib.sha256().block_size
        key = hashlib.sha256(lookup_key).digest() if len(lookup_key) > block else lookup_key
        key = key.ljust(block, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    @classmethod
    def from_settings(cls, settings: Settings) -> FieldCipher:
        return cls(settings.key("encryption_key"), settings.key("lookup_key"))

    def encrypt(self, plaintext: str) -> bytes:
        nonce = os.urandom(12)
        return _KEY_VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), None)

    def encrypt_many(self, plaintexts: Sequence[str]) -> list[bytes]:
        """``encrypt`` of each value, with all the random nonces drawn in one call."""
        random = os.urandom(12 * len(plaintexts))
        nonces = [random[i : i + 12] for i in range(0, len(random), 12)]
        seal = self._aead.encrypt
        return [b"".join((_KEY_VERSION, nonce, seal(nonce, text.encode(), None)))
                for nonce, text in zip(nonces, plaintexts, strict=True)]

    def decrypt(self, blob: bytes) -> str:
        if blob[:1] != _KEY_VERSION:
            raise ValueError("unknown key version in encrypted field")
        return self._aead.decrypt(blob[1:13], blob[13:], None).decode()

    def lookup_hash(self, value: str) -> bytes:
        """HMAC-SHA256 of ``value`` under the lookup key: the 32 bytes of
        ``hmac.new(...).digest()`` (stored as such: half the size of hex text, and compared
        byte by byte in indexes)."""
        return self.lookup_hashes([value])[0]

    def lookup_hashes(self, values: Iterable[str]) -> list[bytes]:
        """``lookup_hash`` of each value."""
        inner_state, outer_state = self._inner.copy, self._outer.copy
        out = []
        for value in values:
            inner = inner_state()
            inner.update(value.encode())
            outer = outer_state()
            outer.update(inner.digest())
            out.append(outer.digest())
        return out


def mask_middle(value: str, keep_start: int, keep_end: int) -> str:
    """``440802199001011234`` → ``440802********1234``."""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    hidden = len(value) - keep_start - keep_end
    return value[:keep_start] + "*" * hidden + value[len(value) - keep_end :]


_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def issue_token(settings: Settings, *, subject: str, session_id: str, expires_at: datetime,
                claims: dict[str, Any]) -> str:
    """A signed token for one server-side session (``jti``), valid until ``expires_at``."""
    import jwt  # (with cryptography: imported when used, not by every command)

    payload = {**claims, "sub": subject, "jti": session_id, "iat": utc_now(), "exp": expires_at}
    return jwt.encode(payload, settings.key("secret_key"), algorithm="HS256")


_REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti"]


def read_token(settings: Settings, token: str) -> dict[str, Any]:
    """The claims of a token signed with our key, unexpired and carrying every required claim
    (a token without ``exp`` would never expire; one without ``jti`` names no session that
    could be revoked)."""
    import jwt

    try:
        claims: dict[str, Any] = jwt.decode(
            token, settings.key("secret_key"), algorithms=["HS256"],
            options={"require": _REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated(CORE("token_expired")) from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated(CORE("token_invalid")) from exc
    return claims
