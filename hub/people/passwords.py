"""Password hashing with Argon2id (argon2-cffi's defaults: RFC 9106's second recommended profile)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub.errors import InvalidInput

MIN_LENGTH = 12
# Argon2 hashes any length, but a megabyte password is an attack on the CPU, not a password.
MAX_LENGTH = 1024

_hasher = PasswordHasher()
# Verified when the e-mail matches no one, so that a wrong address takes as long as a wrong password.
_DUMMY_HASH = _hasher.hash("qualink: nobody has this password")


def check_policy(password: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"password: must be at least {MIN_LENGTH} characters", loc="password")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"password: must be at most {MAX_LENGTH} characters", loc="password")


def hash_password(password: str) -> str:
    check_policy(password)
    return _hasher.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; the comparison inside argon2 is constant-time."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's: it is replaced at the next sign-in."""
    return _hasher.check_needs_rehash(password_hash)
