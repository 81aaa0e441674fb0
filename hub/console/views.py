"""What the console's pages show, assembled from the services the API uses (no query of the console's own).

Each function takes the caller, so every tenant filter is the API's: another organization's standing,
agreement or action is simply not found."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hub.agreements import service as agreements
from hub.auth.tokens import Caller
from hub.certificates import service as certificates
from hub.containment import service as containment
from hub.events import service as events
from hub.kpis import series as kpi_series
from hub.kpis import service as kpis
from hub.kpis.series import Series
from hub.models import StandingChange as StoredChange
from hub.notifications import service as notifications
from hub.orgs import service as orgs
from hub.pagination import every
from hub.rules import sharing, standings
from hub.rules.sharing import DataSharing
from protocol.models.agreements import Agreement
from protocol.models.certificates import Certificate
from protocol.models.containment import ContainmentAction
from protocol.models.kpi import KpiReport
from protocol.models.notifications import NotificationStatus
from protocol.models.rules import Standing, StandingChange

_DONE = {NotificationStatus.CLOSED.value, NotificationStatus.CANCELED.value}
TIERS = "ABCD"
# The most notifications or reports one page reads; the API pages further with cursors.
PAGE = 500


def names(session: Session, *, caller: Caller) -> dict[uuid.UUID, str]:
    """The organizations the caller may see (itself and its partners), by id."""
    return orgs.names(session, caller=caller)


def trend(change: StandingChange | StoredChange | None) -> str:
    """The direction of the last change, "up", "down" or "steady" (a better tier or status is up)."""
    if change is None:
        return "steady"
    to_tier, from_tier = str(change.to_tier), str(change.from_tier)
    if to_tier != from_tier:
        return "up" if TIERS.index(to_tier) < TIERS.index(from_tier) else "down"
    if str(change.to_status) != str(change.from_status):
        return "up" if str(change.to_status) == "approved" else "down"
    return "steady"


@dataclass(frozen=True)
class SupplierRow:
    supplier_id: uuid.UUID
    name: str
    tier: str
    status: str
    trend: str
    open_alerts: int
    overdue: int
    updated_at: datetime
    sharing: DataSharing = field(default_factory=DataSharing)
    certificates: list[Certificate] = field(default_factory=list)  # those shared with the OEM

    @property
    def certificates_summary(self) -> str:
        """``IATF 16949: active; ISO 9001: withdrawn``, for the export."""
        return "; ".join(f"{c.standard}: {c.status.value}" for c in self.certificates)


def _open_notifications_by_partner(session: Session, caller: Caller) -> dict[uuid.UUID, int]:
    found, _ = notifications.list_notifications(session, caller=caller, limit=PAGE)
    counts: dict[uuid.UUID, int] = defaultdict(int)
    for row in found:
        if row.status not in _DONE:
            partner = row.receiver_id if row.sender_id == caller.org_id else row.sender_id
            if partner is not None:
                counts[partner] += 1
    return counts


# How far back the overview counts overdue (missing) reports.
OVERDUE_WINDOW = timedelta(days=91)


def network_overview(session: Session, *, caller: Caller, now: datetime) -> list[SupplierRow]:
    """An OEM's suppliers: tier, status, the direction of the last change, open quality notifications and the
    reports overdue in the last 13 weeks."""
    known = names(session, caller=caller)
    open_alerts = _open_notifications_by_partner(session, caller)
    overdue = standings.missing_periods(session, caller=caller, since=now - OVERDUE_WINDOW)
    found_all = every(
        lambda cursor: standings.list_standings(session, caller=caller, cursor=cursor, limit=PAGE)
    )
    newest = standings.last_changes(session, standings=found_all)
    shared = sharing.data_sharing(session, caller=caller, now=now)
    held: dict[uuid.UUID, list[Certificate]] = defaultdict(list)
    for certificate in certificates_of(session, caller=caller, now=now):
        held[certificate.supplier_id].append(certificate)
    rows = []
    for found in found_all:
        # Straight from the rows: building wire models for hundreds of standings was a third of the page's time.
        rows.append(
            SupplierRow(
                supplier_id=found.supplier_id,
                name=known.get(found.supplier_id, str(found.supplier_id)),
                tier=found.tier,
                status=found.status,
                trend=trend(newest.get(found.id)),
                open_alerts=open_alerts.get(found.supplier_id, 0),
                overdue=overdue.get(found.supplier_id, 0),
                updated_at=found.updated_at,
                sharing=shared.get(found.supplier_id, DataSharing()),
                certificates=held.get(found.supplier_id, []),
            )
        )
    return sorted(rows, key=lambda row: (TIERS.index(row.tier) * -1, row.name.casefold()))


@dataclass(frozen=True)
class Scorecard:
    supplier_id: uuid.UUID
    name: str
    standings: list[Standing]
    series: list[Series]
    names: dict[uuid.UUID, str]
    sharing: DataSharing
    certificates: list[Certificate] = field(default_factory=list)


def certificates_of(
    session: Session, *, caller: Caller, now: datetime, supplier_id: uuid.UUID | None = None
) -> list[Certificate]:
    """The certificates the caller may read (an OEM: those shared with it), as the API shows them; none without
    the scope."""
    if "certificates:read" not in caller.scopes:
        return []
    rows = every(
        lambda cursor: certificates.list_for(
            session, caller=caller, supplier_id=supplier_id, cursor=cursor, limit=PAGE
        )
    )
    return [certificates.as_wire(session, row, viewer=caller.org_id, now=now) for row in rows]


def own_reports(session: Session, *, caller: Caller, limit: int | None = PAGE) -> list[KpiReport]:
    """A supplier's newest reports first, as the API words them: the page shows ``PAGE``, an export all."""
    return [
        kpis.as_wire(report, caller=caller)
        for report in kpis.newest_reports(session, caller=caller, limit=limit)
    ]


def scorecard(session: Session, *, caller: Caller, supplier_id: uuid.UUID, now: datetime) -> Scorecard:
    """An OEM's view of one supplier: the standing with every change and its causes, and the KPI series."""
    found = standings.get_standing(session, caller=caller, supplier_id=supplier_id)
    known = names(session, caller=caller)
    return Scorecard(
        supplier_id=supplier_id,
        name=known.get(supplier_id, str(supplier_id)),
        standings=[standings.as_wire(found, standings.history(session, standing=found))],
        series=kpi_series.series_for(session, caller=caller, supplier_id=supplier_id),
        names=known,
        sharing=sharing.data_sharing(session, caller=caller, now=now, counterparty=supplier_id).get(
            supplier_id, DataSharing()
        ),
        certificates=certificates_of(session, caller=caller, now=now, supplier_id=supplier_id),
    )


@dataclass(frozen=True)
class SupplierView:
    standings: list[Standing]
    agreements: list[Agreement]
    series: list[Series]
    names: dict[uuid.UUID, str]
    reports: list[KpiReport] = field(default_factory=list)
    actions: list[ContainmentAction] = field(default_factory=list)
    sharing: dict[uuid.UUID, DataSharing] = field(default_factory=dict)
    certificates: list[Certificate] = field(default_factory=list)


def supplier_view(session: Session, *, caller: Caller, now: datetime) -> SupplierView:
    """A supplier's own page: its standing at each OEM and why, its agreements, its reports and proofs (newest
    first), its plants' containment actions and its data sharing as each OEM scores it."""
    own = [
        standings.as_wire(found, standings.history(session, standing=found))
        for found in every(
            lambda cursor: standings.list_standings(session, caller=caller, cursor=cursor, limit=PAGE)
        )
    ]
    return SupplierView(
        standings=own,
        agreements=[
            agreements.as_wire(a)
            for a in every(
                lambda cursor: agreements.list_for(session, caller=caller, cursor=cursor, limit=PAGE)
            )
        ],
        series=kpi_series.series_for(session, caller=caller, supplier_id=caller.org_id),
        names=names(session, caller=caller),
        reports=own_reports(session, caller=caller),
        actions=containment_actions(session, caller=caller) if "alerts:read" in caller.scopes else [],
        sharing=sharing.data_sharing(session, caller=caller, now=now),
        certificates=certificates_of(session, caller=caller, now=now),
    )


def decide_agreement(
    session: Session, *, caller: Caller, agreement_id: uuid.UUID, accept: bool, reason: str
) -> Agreement:
    return agreements.as_wire(
        agreements.decide(session, caller=caller, agreement_id=agreement_id, accept=accept, reason=reason)
    )


def event_head(session: Session, *, caller: Caller) -> int:
    return events.head_position(session, org_id=caller.org_id)


def containment_actions(session: Session, *, caller: Caller) -> list[ContainmentAction]:
    found, _ = containment.list_actions(session, caller=caller, limit=PAGE)
    return found


def acknowledge(session: Session, *, caller: Caller, action_id: uuid.UUID, owner: str) -> ContainmentAction:
    return containment.acknowledge(session, caller=caller, action_id=action_id, owner=owner)


def close(session: Session, *, caller: Caller, action_id: uuid.UUID, result: str) -> ContainmentAction:
    return containment.close(session, caller=caller, action_id=action_id, result=result)
