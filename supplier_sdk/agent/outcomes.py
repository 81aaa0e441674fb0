"""What the agent reports per mapping and period, and the idempotency key each report is sent under.

Example:
    >>> Outcome(mapping="dia-cpk", period="2026-W48", outcome="failed", reason="an empty period").as_dict()["reason"]
    'an empty period'
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from protocol.models.kpi import KpiReportPayload
from supplier_sdk.agent.config import Mapping
from supplier_sdk.errors import HubError

_KEYS = uuid.UUID("6f1d3c1e-8a51-4c36-9d7e-0a6b1c2d3e4f")

BATCH = 100
"""Most reports the agent sends in one request (the hub's ``MAX_BATCH``)."""


@dataclass
class Outcome:
    """What happened to one mapping and period (or what would happen, for ``agent check``)."""

    mapping: str
    period: str | None
    outcome: str  # accepted, queued, duplicate, refused, failed, would-send
    reason: str | None = None
    rows: int | None = None
    kpi: str | None = None
    figure: float | None = None  # the KPI as computed here (shown locally, sent only if disclosed)
    meets: bool | None = None
    sent_value: str | None = None  # the value the report carries, or None for a "meets"-only claim
    proof: bool | None = None
    due: str | None = None  # when the hub counts the period as missed without a report (UTC)
    late: bool | None = None  # prepared after the due instant: stored, yet the period counts as missed

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


Prepared = tuple[Mapping, KpiReportPayload, Outcome, set[str]]
"""A report ready to send: its mapping, payload, outcome so far and the periods its state keeps."""


class MappingFailed(Exception):
    """The mapping cannot report this period; the message is why (nothing was sent)."""


def hub_reason(exc: Exception) -> str:
    return str(exc) if not isinstance(exc, HubError) else f"{exc.error}: {exc.detail}"


def idempotency_key(mapping: Mapping, period: str) -> str:
    """The same key for the same agreement, KPI, characteristic and period: a resend is never a second report."""
    name = f"{mapping.agreement_id}:{mapping.kpi}:{mapping.characteristic or ''}:{period}"
    return f"agent-{uuid.uuid5(_KEYS, name)}"


def failed(outcome: Outcome, reason: str) -> Outcome:
    outcome.outcome, outcome.reason = "failed", reason
    return outcome


def as_float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


__all__ = [
    "BATCH",
    "MappingFailed",
    "Outcome",
    "Prepared",
    "as_float",
    "failed",
    "hub_reason",
    "idempotency_key",
]
