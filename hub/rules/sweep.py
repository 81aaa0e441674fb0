"""The due-date sweep: a period nobody reported by its due date counts as not met, and the rules hear of it.

Agreements are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so the sweeps of several replicas share
the work and never mark one period twice (the outcome's unique constraint would refuse it anyway). Periods
before the supplier accepted the agreement are never marked: nothing was owed then."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hub.agreements import service as agreements
from hub.certificates import service as certificates
from hub.models import SupplyAgreement
from hub.models.base import utcnow
from hub.rules import certificate_rules, evaluation
from protocol.models.common import AgreementStatus, KpiName, PeriodKind
from protocol.periods import Period, due_at, parse_period, period_containing

BATCH = 200
EXPIRY_NOTICE_DAYS = 60  # certificate.expiring is announced this many days before valid_until
_PER_CHARACTERISTIC = {KpiName.CPK.value, KpiName.PPK.value, KpiName.PPM.value}


def expected_series(terms: agreements.AgreementTerms) -> Iterator[tuple[str, str, str]]:
    """(part, characteristic, KPI) of every series the agreement expects a report for each period:
    capability KPIs and PPM per characteristic, MTBF per part."""
    for kpi in sorted(terms.kpis):
        if kpi in _PER_CHARACTERISTIC:
            for part, code in sorted(terms.characteristics):
                yield part, code, kpi
        else:
            for part in sorted(terms.parts):
                yield part, "", kpi


def _periods_due(agreement: SupplyAgreement, now: datetime) -> list[Period]:
    kind = PeriodKind(agreement.period)
    if agreement.decided_at is None:
        return []
    first = (
        parse_period(agreement.swept_through).next()
        if agreement.swept_through
        else period_containing(max(agreement.decided_at.date(), agreement.valid_from), kind)
    )
    last = period_containing(now, kind)
    while due_at(last, agreement.report_due_days) > now:
        last = last.previous()
    if agreement.valid_until is not None:
        while last.start.date() > agreement.valid_until:
            last = last.previous()
    periods = []
    current = first
    while not last < current:
        periods.append(current)
        current = current.next()
    return periods


def sweep(session: Session, *, now: datetime) -> int:
    """Mark every due, unreported period of a batch of active agreements as missing; returns how many."""
    query = (
        select(SupplyAgreement)
        .where(SupplyAgreement.status == AgreementStatus.ACTIVE.value)
        .order_by(
            SupplyAgreement.swept_through.is_not(None), SupplyAgreement.swept_through, SupplyAgreement.id
        )
        .limit(BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    marked = 0
    for agreement in session.scalars(query):
        periods = _periods_due(agreement, now)
        if not periods:
            continue
        terms = agreements.terms_of(session, agreement)
        for period in periods:
            for part, characteristic, kpi in expected_series(terms):
                series = evaluation.Series(
                    agreement.oem_id, agreement.supplier_id, agreement.id, part, characteristic, kpi
                )
                threshold = Decimal(terms.kpis[kpi]["threshold"])
                recorded = evaluation.record_outcome(
                    session,
                    series=series,
                    period=period,
                    met=False,
                    missing=True,
                    value=None,
                    threshold=threshold,
                    report_id=None,
                    now=now,
                )
                if recorded is not None:
                    marked += 1
                    evaluation.evaluate(session, series=series, now=now, recorded=recorded)
        agreement.swept_through = str(periods[-1])
    return marked


def sweep_once(session_factory: sessionmaker[Session]) -> int:
    """One round of the background sweep, in a transaction of its own; certificates expire with time too, so the
    certificate rules and the ``certificate.expiring`` announcements are judged in the same round."""
    with session_factory.begin() as session:
        now = utcnow()
        marked = sweep(session, now=now)
        certificates.announce_expiring(session, within_days=EXPIRY_NOTICE_DAYS, now=now)
        certificate_rules.sweep(session, now=now)
        return marked
