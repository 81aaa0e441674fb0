"""Revocation on the next request: a token names its client, and the client's row says whether it still may call.

Access tokens are self-contained JWTs, so their signature alone would keep a revoked client working until the
token expires (up to an hour). Every authenticated request therefore reads the client's ``revoked_at`` in the
request's own transaction: one lookup by the unique index on ``client_id``, on the database every replica shares,
so a revocation committed anywhere holds on the next request everywhere. Revoking an organization key revokes the
clients that authenticate with it (:func:`hub.orgs.service.revoke_key`), so a key's revocation takes effect the
same way."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.errors import Unauthenticated
from hub.models import ApiClient

# Built once and run on the session's connection: a Core statement skips the ORM's per-call work (half the cost
# of this lookup on SQLite), which matters on every request.
_CLIENT_STATE = select(ApiClient.organization_id, ApiClient.revoked_at).where(
    ApiClient.client_id == bindparam("client_id")
)


def check_active(session: Session, caller: Caller) -> None:
    """Raise Unauthenticated when the caller's client is revoked or no longer exists."""
    row = session.connection().execute(_CLIENT_STATE, {"client_id": caller.client_id}).first()
    if row is None or row.organization_id != caller.org_id:
        raise Unauthenticated("the client this token was issued to does not exist")
    if row.revoked_at is not None:
        raise Unauthenticated("the client this token was issued to is revoked")
