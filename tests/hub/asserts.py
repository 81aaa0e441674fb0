"""Assertions every hub test shares: the uniform error body, and counting what was (not) written."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import AuditEntry


def assert_error(
    response: httpx.Response, status: int, error: str, *, detail: str | None = None
) -> dict[str, Any]:
    """The response is ``status`` with the uniform ``{"error", "detail", "request_id"}`` body, naming
    ``error``.

    ``detail``, when given, must appear (case-insensitively) in the body's detail.
    """
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert {"error", "detail", "request_id"} <= body.keys(), body
    assert body["error"] == error, body
    assert isinstance(body["detail"], str) and body["detail"], body
    # The body's request id is the one the response header carries, so a log line can be found from either.
    assert body["request_id"] == response.headers["x-request-id"], body
    if detail is not None:
        assert detail.lower() in body["detail"].lower(), body
    return body


def field_locs(body: dict[str, Any]) -> list[str]:
    """The ``loc`` of every entry of an InvalidInput body's ``fields``."""
    return [entry["loc"] for entry in body.get("fields", [])]


def audit_actions(db: Session, subject_id: object | None = None) -> list[str]:
    """Actions of the audit entries in this test's transaction (of one subject, when given), oldest first."""
    query = select(AuditEntry.action).order_by(AuditEntry.id)
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == str(subject_id))
    return list(db.scalars(query))


def audit_count(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(AuditEntry)) or 0)
