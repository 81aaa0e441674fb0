"""The receiver's verification helper, against the Standard Webhooks test vector and its mutations."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from supplier_sdk import ConfigError, WebhookVerificationError
from supplier_sdk.webhooks import verify

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
OTHER_SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def _headers(signature: str = SIGNATURE, timestamp: int = TIMESTAMP) -> dict[str, str]:
    return {"webhook-id": MSG_ID, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def _sign(secret: str, timestamp: int = TIMESTAMP, body: bytes = BODY) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{MSG_ID}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def test_the_spec_vector_verifies_and_returns_the_body() -> None:
    assert verify(secret=SECRET, headers=_headers(), body=BODY, now=TIMESTAMP) == {"test": 2432232314}


def test_header_names_are_case_insensitive() -> None:
    headers = {name.title(): value for name, value in _headers().items()}
    assert verify(secret=SECRET, headers=headers, body=BODY, now=TIMESTAMP + 299) == {"test": 2432232314}


@pytest.mark.parametrize("position", [0, 1, 2])
def test_any_one_valid_signature_among_several_is_enough(position: int) -> None:
    others = [_sign(OTHER_SECRET), "v2,bm90IGEgdjEgc2lnbmF0dXJl"]
    others.insert(position, SIGNATURE)
    assert verify(secret=SECRET, headers=_headers(" ".join(others)), body=BODY, now=TIMESTAMP)


def test_the_wrong_secret_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="no signature"):
        verify(secret=OTHER_SECRET, headers=_headers(), body=BODY, now=TIMESTAMP)


def test_a_tampered_body_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="no signature"):
        verify(secret=SECRET, headers=_headers(), body=b'{"test": 2432232315}', now=TIMESTAMP)


def test_a_tampered_id_is_refused() -> None:
    headers = {**_headers(), "webhook-id": MSG_ID + "x"}
    with pytest.raises(WebhookVerificationError, match="no signature"):
        verify(secret=SECRET, headers=headers, body=BODY, now=TIMESTAMP)


@pytest.mark.parametrize("offset", [-301, 301, -86400])
def test_a_timestamp_outside_the_tolerance_is_refused_even_when_signed(offset: int) -> None:
    signed_then = _headers(_sign(SECRET, TIMESTAMP + offset), TIMESTAMP + offset)
    with pytest.raises(WebhookVerificationError, match="300 s"):
        verify(secret=SECRET, headers=signed_then, body=BODY, now=TIMESTAMP)


def test_the_tolerance_is_configurable() -> None:
    assert verify(secret=SECRET, headers=_headers(), body=BODY, now=TIMESTAMP + 3000, tolerance_seconds=3600)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_refused(missing: str) -> None:
    headers = {name: value for name, value in _headers().items() if name != missing}
    with pytest.raises(WebhookVerificationError, match="missing"):
        verify(secret=SECRET, headers=headers, body=BODY, now=TIMESTAMP)


@pytest.mark.parametrize("signature", ["", "v1,", "v1", "v0," + SIGNATURE[3:], SIGNATURE[3:]])
def test_malformed_signatures_are_refused(signature: str) -> None:
    with pytest.raises(WebhookVerificationError):
        verify(secret=SECRET, headers=_headers(signature), body=BODY, now=TIMESTAMP)


def test_a_non_numeric_timestamp_is_refused() -> None:
    headers = {**_headers(), "webhook-timestamp": "yesterday"}
    with pytest.raises(WebhookVerificationError, match="unix seconds"):
        verify(secret=SECRET, headers=headers, body=BODY, now=TIMESTAMP)


def test_a_signed_body_that_is_not_an_object_is_refused() -> None:
    body = b"[1, 2]"
    with pytest.raises(WebhookVerificationError, match="not a JSON object"):
        verify(secret=SECRET, headers=_headers(_sign(SECRET, body=body)), body=body, now=TIMESTAMP)


def test_a_malformed_secret_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="whsec_"):
        verify(secret="whsec_not base64!", headers=_headers(), body=BODY, now=TIMESTAMP)
