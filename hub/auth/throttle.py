"""Failed client authentications at the token endpoint, limited per (client id, source address) and per address.

Fixed windows of ``token_failure_window_seconds``. Before the token request is authenticated, the counts of the
current window are read; at a limit the answer is 429 with ``Retry-After`` (the seconds left in the window),
whatever the credentials, so a throttled caller learns nothing about them. After a failed authentication
(``invalid_client``) both counts go up by one, atomically (INSERT ... ON CONFLICT DO UPDATE), in the request's
transaction, which the router commits even though the answer is a 401.

Why these two keys. Counting per client id alone would let anyone lock a client out by sending it wrong secrets
from anywhere; counting per (client id, address) confines a lockout to the attacker's own address. The higher
per-address limit stops one address from trying many client ids. A success resets nothing, so a valid client
cannot be used to wash away an address's failures. The counts live in the database every replica shares, so a
limit holds however the load balancer spreads the attempts. (Concurrent attempts that all read the count before
any of them failed can pass together: a limit may be exceeded by the number of requests in flight at once.)"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hub.config import Settings
from hub.errors import RateLimited
from hub.models import TokenAuthFailure

ANY_CLIENT = "*"
_MAX = 64  # column width; a longer "client id" is no client of ours, and its prefix is as good a key
LONGEST_WINDOW = timedelta(days=1)  # the largest token_failure_window_seconds allowed


def address_key(host: str | None) -> str:
    """The source address as counted: IPv6 by its /64, since one subscriber commonly holds a whole /64."""
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return (host or "unknown")[:_MAX]
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address.ipv4_mapped or address) if isinstance(address, ipaddress.IPv6Address) else str(address)


def window_of(now: datetime, seconds: int) -> tuple[datetime, datetime]:
    start = math.floor(now.timestamp() / seconds) * seconds
    begins = datetime.fromtimestamp(start, UTC)
    return begins, begins + timedelta(seconds=seconds)


def claimed_client_id(headers: Mapping[str, str], form: Mapping[str, str]) -> str:
    """The client id a token request claims, before anything is verified: the Basic user, the assertion's
    ``sub``, or the ``client_id`` parameter. Only a key for counting; never trusted for anything else."""
    authorization = headers.get("authorization", "")
    if authorization[:6].lower() == "basic ":
        try:
            user = base64.b64decode(authorization[6:].strip(), validate=True).decode().split(":", 1)[0]
            return unquote(user)[:_MAX] or ANY_CLIENT
        except (binascii.Error, UnicodeDecodeError):
            return ANY_CLIENT
    assertion = form.get("client_assertion", "")
    if assertion.count(".") == 2:
        body = assertion.split(".")[1]
        try:
            claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            if isinstance(claims, dict) and isinstance(claims.get("sub"), str):
                return str(claims["sub"])[:_MAX] or ANY_CLIENT
        except (binascii.Error, ValueError):
            pass
    return form.get("client_id", "")[:_MAX] or ANY_CLIENT


def check(session: Session, *, settings: Settings, client_id: str, address: str, now: datetime) -> None:
    """Raise RateLimited when this client id from this address, or this address, failed too often lately."""
    begins, ends = window_of(now, settings.token_failure_window_seconds)
    counts: dict[str, int] = {
        key: failures
        for key, failures in session.execute(
            select(TokenAuthFailure.client_id, TokenAuthFailure.failures).where(
                TokenAuthFailure.address == address,
                TokenAuthFailure.client_id.in_({client_id, ANY_CLIENT}),
                TokenAuthFailure.window_start == begins,
            )
        ).all()
    }
    per_client = counts.get(client_id, 0) if client_id != ANY_CLIENT else 0
    if (
        per_client >= settings.token_failures_per_client_address
        or counts.get(ANY_CLIENT, 0) >= settings.token_failures_per_address
    ):
        raise RateLimited(
            "too many failed client authentications from this address; try again later",
            retry_after=math.ceil((ends - now).total_seconds()),
        )


def record_failure(
    session: Session, *, settings: Settings, client_id: str, address: str, now: datetime
) -> None:
    begins, _ = window_of(now, settings.token_failure_window_seconds)
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    for key in {client_id, ANY_CLIENT}:
        statement = insert(TokenAuthFailure).values(
            address=address, client_id=key, window_start=begins, failures=1
        )
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["address", "client_id", "window_start"],
                set_={"failures": TokenAuthFailure.failures + 1},
            )
        )


def forget_ended(session: Session, *, now: datetime) -> int:
    """Delete the counts of windows that ended (whatever the window setting, they began over a day ago)."""
    result = session.execute(
        delete(TokenAuthFailure).where(TokenAuthFailure.window_start < now - LONGEST_WINDOW)
    )
    return int(getattr(result, "rowcount", 0) or 0)
