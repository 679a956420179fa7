from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from cryptography.exceptions import InvalidTag

from fangkong.core.clock import utc_now
from fangkong.core.errors import Unauthenticated
from fangkong.core.security import (
    FieldCipher,
    hash_password,
    issue_token,
    mask_middle,
    read_token,
    verify_password,
)


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(b"e" * 32, b"k" * 32)


def test_encryption_round_trips_and_is_not_deterministic(cipher: FieldCipher) -> None:
    a, b = cipher.encrypt("440802199001011234"), cipher.encrypt("440802199001011234")
    assert a != b and b"440802" not in a
    assert cipher.decrypt(a) == cipher.decrypt(b) == "440802199001011234"


def test_tampered_ciphertext_is_rejected(cipher: FieldCipher) -> None:
    blob = bytearray(cipher.encrypt("13800138000"))
    blob[-1] ^= 1
    with pytest.raises(InvalidTag):
        cipher.decrypt(bytes(blob))


def test_lookup_hash_is_keyed(cipher: FieldCipher) -> None:
    other = FieldCipher(b"e" * 32, b"x" * 32)
    assert cipher.lookup_hash("13800138000") == cipher.lookup_hash("13800138000")
    assert cipher.lookup_hash("13800138000") != other.lookup_hash("13800138000")


def test_mask() -> None:
    assert mask_middle("440802199001011234", 6, 4) == "440802********1234"
    assert mask_middle("abc", 2, 2) == "***"


def test_passwords() -> None:
    digest = hash_password("correct horse battery")
    assert digest.startswith("$argon2")
    assert verify_password(digest, "correct horse battery")
    assert not verify_password(digest, "wrong")
    assert not verify_password("not-a-hash", "wrong")


def test_tokens() -> None:
    from fangkong.core.config import get_settings

    settings = get_settings()
    later = utc_now() + timedelta(minutes=5)
    token = issue_token(settings, subject="7", session_id="s1", expires_at=later,
                        claims={"usr": "li"})
    assert read_token(settings, token)["sub"] == "7"
    assert read_token(settings, token)["jti"] == "s1"
    with pytest.raises(Unauthenticated):
        # Change the signature's first character: all six of its bits are significant (the
        # last character's low bits are padding, so changing it may not change the bytes).
        head, sig = token.rsplit(".", 1)
        read_token(settings, f"{head}.{'A' if sig[0] != 'A' else 'B'}{sig[1:]}")


@pytest.mark.parametrize("missing", ["exp", "jti", "sub", "iat"])
def test_a_token_without_a_required_claim_is_refused(missing: str) -> None:
    """A token signed with our key but without ``exp`` would never expire (issue 19 item 7);
    without ``jti`` it names no session that could be revoked."""
    from fangkong.core.config import get_settings

    settings = get_settings()
    now = utc_now()
    claims = {"sub": "7", "jti": "s1", "iat": now, "exp": now + timedelta(minutes=5)}
    del claims[missing]
    token = jwt.encode(claims, settings.key("secret_key"), algorithm="HS256")
    with pytest.raises(Unauthenticated):
        read_token(settings, token)


def test_an_expired_token_is_refused() -> None:
    from fangkong.core.config import get_settings

    settings = get_settings()
    token = issue_token(settings, subject="7", session_id="s1",
                        expires_at=utc_now() - timedelta(seconds=1), claims={})
    with pytest.raises(Unauthenticated, match="expired"):
        read_token(settings, token)
