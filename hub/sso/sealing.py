"""Encrypting what single sign-on keeps: a provider's client secret at rest, and the pending sign-in (state,
nonce, PKCE verifier) in a cookie, so that any replica can finish a sign-in another one began.

Both are Fernet (AES-128-CBC + HMAC-SHA256) under keys derived from HUB_SSO_SECRET_KEY, one per purpose, so a
sealed cookie can never be presented as a sealed secret or back."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from hub.errors import ServiceUnavailable


class SsoUnavailable(ServiceUnavailable):
    """Single sign-on is not configured on this hub (HUB_SSO_SECRET_KEY is missing in production)."""


def _fernet(master: bytes, purpose: bytes) -> Fernet:
    key = hmac.new(master, b"qualink sso " + purpose, hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal_secret(master: bytes, secret: str) -> bytes:
    return _fernet(master, b"client secret").encrypt(secret.encode())


def open_secret(master: bytes, sealed: bytes) -> str:
    try:
        return _fernet(master, b"client secret").decrypt(sealed).decode()
    except InvalidToken:
        raise SsoUnavailable(
            "the provider's client secret does not open: was HUB_SSO_SECRET_KEY changed?"
        ) from None


def seal_pending(master: bytes, pending: dict[str, Any], *, now: datetime) -> str:
    data = json.dumps(pending, separators=(",", ":")).encode()
    return _fernet(master, b"pending sign-in").encrypt_at_time(data, int(now.timestamp())).decode()


def open_pending(master: bytes, sealed: str, *, max_age_seconds: int, now: datetime) -> dict[str, Any] | None:
    """The pending sign-in, or None when the cookie is forged, of another key, or older than the limit."""
    try:
        data = _fernet(master, b"pending sign-in").decrypt_at_time(
            sealed.encode(), max_age_seconds, int(now.timestamp())
        )
        value = json.loads(data)
    except (InvalidToken, ValueError):
        return None
    return value if isinstance(value, dict) else None
