"""The uniform error body every hub error is rendered as."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FieldError(BaseModel):
    """One invalid input: where (``loc``, e.g. ``body.kpis.0.threshold``) and why."""

    loc: str
    msg: str


class ErrorBody(BaseModel):
    """``{"error": "<Name>", "detail": "...", "request_id": "..."}``; validation errors add ``fields``.

    Example:
        >>> ErrorBody(error="NotFound", detail="agreement not found", request_id="r1").error
        'NotFound'
    """

    error: str
    detail: str
    request_id: str
    fields: list[FieldError] = Field(default_factory=list)


__all__ = ["ErrorBody", "FieldError"]
