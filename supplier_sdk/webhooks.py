"""Checking a webhook delivery from the hub, on the receiving side (Standard Webhooks, ``v1`` signatures).

The hub POSTs each event as JSON with three headers: ``webhook-id`` (the event id), ``webhook-timestamp`` (unix
seconds) and ``webhook-signature``, a space-separated list of ``v1,<base64 HMAC-SHA256>`` over
``f"{webhook-id}.{webhook-timestamp}.{body}"``, keyed with the base64-decoded part of your ``whsec_…`` secret.
During a secret rotation the hub signs with both the new and the previous secret, so either one verifies.

Delivery is at least once: the same event can arrive more than once (a retry after a lost answer). Deduplicate by
the event's ``id`` (equal to ``webhook-id``) before acting on it.

Example::

    from supplier_sdk.webhooks import verify
    from supplier_sdk import WebhookVerificationError

    def handle(request):                       # in your web framework of choice
        try:
            event = verify(secret=WEBHOOK_SECRET, headers=request.headers, body=request.body)
        except WebhookVerificationError:
            return 400
        if not seen_before(event["id"]):
            act_on(event)
        return 204
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from supplier_sdk.errors import ConfigError, WebhookVerificationError

__all__ = ["DEFAULT_TOLERANCE_SECONDS", "verify"]

DEFAULT_TOLERANCE_SECONDS = 300
"""How far ``webhook-timestamp`` may lie from your clock, either way, before a delivery is refused as a replay.

Example:
    >>> DEFAULT_TOLERANCE_SECONDS
    300
"""


def _key(secret: str) -> bytes:
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError("the webhook secret must be 'whsec_' followed by base64") from exc


def verify(
    *,
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """Check a delivery's signature and freshness; return the event it carries.

    Args:
        secret: the webhook's ``whsec_…`` secret, as the hub showed it when you created or rotated the webhook.
        headers: the request's headers (names in any case).
        body: the request body, exactly the bytes received (do not re-serialize parsed JSON).
        tolerance_seconds: how far the timestamp may be from ``now``.
        now: the current unix time; the clock by default (for tests).

    Returns:
        The event: ``{"id", "type", "occurred_at", "subject_id", "position", "payload"}``.

    Raises:
        WebhookVerificationError: a header is missing or malformed, the timestamp is too old or too new, no
            ``v1`` signature in the header matches, or the body is not a JSON object.
        ConfigError: ``secret`` is not ``whsec_`` + base64.

    Example:
        >>> headers = {
        ...     "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        ...     "webhook-timestamp": "1614265330",
        ...     "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        ... }
        >>> verify(secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers=headers,
        ...        body=b'{"test": 2432232314}', now=1614265330)
        {'test': 2432232314}
    """
    key = _key(secret)
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = lowered.get("webhook-id")
    timestamp_text = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not msg_id or not timestamp_text or not signatures:
        raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header")
    try:
        timestamp = int(timestamp_text)
    except ValueError as exc:
        raise WebhookVerificationError("webhook-timestamp is not unix seconds") from exc
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        raise WebhookVerificationError(
            f"webhook-timestamp is more than {tolerance_seconds} s from now (a replay, or a clock off)"
        )
    signed = f"{msg_id}.{timestamp_text}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    matched = False
    for candidate in signatures.split(" "):
        version, _, signature = candidate.partition(",")
        # Compare every candidate, so timing does not tell which position matched.
        if version == "v1" and hmac.compare_digest(signature.encode(), expected.encode()):
            matched = True
    if not matched:
        raise WebhookVerificationError("no signature matches the secret")
    try:
        event = json.loads(body)
    except ValueError as exc:
        raise WebhookVerificationError("the body is not JSON") from exc
    if not isinstance(event, dict):
        raise WebhookVerificationError("the body is not a JSON object")
    return event
