"""A supplier's data-sharing degree, part of its score: how openly and how promptly it shares with an OEM.

Four measures over a window (by default the last 13 weeks, the window of the overview's overdue reports):

- **reports on time**: of the periods that were due (each report received, and each period the sweep marked
  missing), the share whose report came by its due date (``report_due_days`` after the period's end);
- **reports proven**: of the reports received, the share that carried a zero-knowledge proof (the supplier
  let the OEM check the claim without seeing the value);
- **investigations answered within target**: of the OEM's investigations to the supplier that carry a target
  date and are due (answered, or past the date), the share accepted or declined by the target date;
- **open containment actions**: the supplier's plants' actions on the OEM's alerts that are not closed.

The degree is the mean of the shares there is something to measure for (0-100), less
:data:`OPEN_ACTION_POINTS` per open containment action (at most :data:`OPEN_ACTION_CAP`); ``None`` when nothing
was measurable. Computed in a few aggregate queries for every counterparty at once, so the network overview
shows it for hundreds of suppliers.

For an OEM the counterparties are its suppliers; for a supplier, the OEMs it reports to (its own view)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, select
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.models import (
    ContainmentAction,
    KpiReport,
    NotificationMessage,
    PeriodOutcome,
    QualityNotification,
    SupplyAgreement,
)
from hub.models.base import UTCDateTime
from protocol.models.common import OrgKind
from protocol.models.containment import ContainmentStatus
from protocol.models.notifications import NotificationStatus, NotificationType
from protocol.periods import due_at, parse_period

Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])
WINDOW = timedelta(days=91)
OPEN_ACTION_POINTS = 5
OPEN_ACTION_CAP = 25
_ANSWERS = (NotificationStatus.ACCEPTED.value, NotificationStatus.DECLINED.value)


@dataclass(frozen=True)
class DataSharing:
    """One supplier's sharing with one OEM, the counts behind each share."""

    due: int = 0
    on_time: int = 0
    reports: int = 0
    proven: int = 0
    investigations: int = 0
    answered_in_time: int = 0
    open_actions: int = 0

    @property
    def share_on_time(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def share_proven(self) -> float | None:
        return self.proven / self.reports if self.reports else None

    @property
    def share_answered(self) -> float | None:
        return self.answered_in_time / self.investigations if self.investigations else None

    @property
    def degree(self) -> int | None:
        """0-100: the mean of the measurable shares, less the open containment actions' points."""
        shares = [s for s in (self.share_on_time, self.share_proven, self.share_answered) if s is not None]
        if not shares:
            return None
        penalty = min(self.open_actions * OPEN_ACTION_POINTS, OPEN_ACTION_CAP)
        return max(0, round(100 * sum(shares) / len(shares)) - penalty)


def _sides(caller: Caller) -> tuple[str, str] | None:
    """(the caller's side, the counterparty's side) of a supplier relation, or None for other kinds."""
    if caller.org_kind is OrgKind.OEM:
        return "oem_id", "supplier_id"
    if caller.org_kind is OrgKind.SUPPLIER:
        return "supplier_id", "oem_id"
    return None


def data_sharing(
    session: Session,
    *,
    caller: Caller,
    now: datetime,
    counterparty: uuid.UUID | None = None,
    window: timedelta = WINDOW,
) -> dict[uuid.UUID, DataSharing]:
    """Per counterparty of the caller (or only ``counterparty``), its data sharing over ``window`` before ``now``.
    Only the caller's own relations count: nothing of another OEM's suppliers or another supplier's OEMs."""
    sides = _sides(caller)
    if sides is None:
        return {}
    mine, theirs = sides
    since = now - window
    counts: dict[uuid.UUID, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def scoped(model: type[KpiReport] | type[PeriodOutcome]) -> list[ColumnElement[bool]]:
        where = [getattr(model, mine) == caller.org_id]
        if counterparty is not None:
            where.append(getattr(model, theirs) == counterparty)
        return where

    _count_reports(
        session,
        counts,
        party=getattr(KpiReport, theirs),
        where=[*scoped(KpiReport), KpiReport.period_start >= since],
    )

    for party, missing in session.execute(
        select(getattr(PeriodOutcome, theirs), func.count())
        .where(*scoped(PeriodOutcome), PeriodOutcome.missing.is_(True), PeriodOutcome.period_start >= since)
        .group_by(getattr(PeriodOutcome, theirs))
    ):
        counts[party]["due"] += int(missing)

    oem_col, supplier_col = QualityNotification.sender_id, QualityNotification.receiver_id
    me, other = (oem_col, supplier_col) if mine == "oem_id" else (supplier_col, oem_col)
    notice_where = [me == caller.org_id, QualityNotification.sent_at.is_not(None)]
    if counterparty is not None:
        notice_where.append(other == counterparty)
    answered = (
        select(NotificationMessage.notification_id, func.min(NotificationMessage.created_at).label("at"))
        .where(NotificationMessage.status.in_(_ANSWERS))
        .group_by(NotificationMessage.notification_id)
        .subquery()
    )
    for party, target, answered_at in session.execute(
        select(other, QualityNotification.target_date, answered.c.at)
        .outerjoin(answered, answered.c.notification_id == QualityNotification.id)
        .where(
            *notice_where,
            QualityNotification.type == NotificationType.INVESTIGATION.value,
            QualityNotification.target_date.is_not(None),
            QualityNotification.target_date >= since,
        )
    ):
        target_at = _aware(target, now)
        if answered_at is None and target_at > now:
            continue  # not due yet, not answered yet: it counts neither way
        counts[party]["investigations"] += 1
        counts[party]["answered_in_time"] += answered_at is not None and _aware(answered_at, now) <= target_at

    plant_owner = ContainmentAction.organization_id
    action_where = [
        QualityNotification.type == NotificationType.ALERT.value,
        ContainmentAction.status != ContainmentStatus.CLOSED.value,
    ]
    if mine == "oem_id":
        action_where += [QualityNotification.sender_id == caller.org_id]
        party_col = plant_owner
        if counterparty is not None:
            action_where.append(plant_owner == counterparty)
    else:
        action_where += [plant_owner == caller.org_id]
        party_col = QualityNotification.sender_id
        if counterparty is not None:
            action_where.append(QualityNotification.sender_id == counterparty)
    for party, open_count in session.execute(
        select(party_col, func.count())
        .select_from(ContainmentAction)
        .join(QualityNotification, QualityNotification.id == ContainmentAction.notification_id)
        .where(*action_where)
        .group_by(party_col)
    ):
        counts[party]["open_actions"] += int(open_count)

    return {party: DataSharing(**row) for party, row in counts.items()}


def _count_reports(
    session: Session,
    counts: dict[uuid.UUID, dict[str, int]],
    *,
    party: ColumnElement[uuid.UUID],
    where: list[ColumnElement[bool]],
) -> None:
    """Reports received, proven and on time per counterparty, counted by the database: a hundred suppliers'
    quarter is thirteen thousand reports, too many to fetch for three sums. Each period's due date depends on
    the agreement's ``report_due_days``, so the few (period, due days) pairs in the window are read first and
    their due dates handed to the count as one CASE."""

    def windowed(query: Query) -> Query:
        return query.join(SupplyAgreement, SupplyAgreement.id == KpiReport.agreement_id).where(*where)

    terms = session.execute(
        windowed(select(KpiReport.period, SupplyAgreement.report_due_days).distinct())
    ).all()
    if not terms:
        return
    due = case(
        *[
            (
                and_(KpiReport.period == period, SupplyAgreement.report_due_days == days),
                literal(due_at(parse_period(period), days), type_=UTCDateTime()),
            )
            for period, days in terms
        ]
    )
    totals = windowed(
        select(
            party,
            func.count(),
            func.sum(case((KpiReport.has_proof, 1), else_=0)),
            func.sum(case((KpiReport.received_at <= due, 1), else_=0)),
        )
    ).group_by(party)
    for who, received, proven, on_time in session.execute(totals):
        row = counts[who]
        row["reports"] += int(received)
        row["due"] += int(received)
        row["proven"] += int(proven or 0)
        row["on_time"] += int(on_time or 0)


def _aware(moment: datetime, like: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=like.tzinfo)
