"""Counting the periods that went unreported past their due date, as the OEM and the supplier see them."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.models.base import utcnow
from hub.rules.standings import missing_periods
from hub.rules.sweep import sweep
from protocol.models.common import OrgKind
from tests.hub.conftest import Actor, make_org
from tests.hub.kpis.conftest import Reporting, caller_of


def test_missing_periods_per_supplier_and_only_to_the_parties(
    reporting: Reporting, db: Session, other_supplier: Actor
) -> None:
    now = utcnow()
    marked = sweep(db, now=now + timedelta(weeks=3))
    assert marked >= 2
    supplier_id = reporting.supplier.org.id

    assert missing_periods(db, caller=caller_of(reporting.oem), since=now - timedelta(days=91)) == {
        supplier_id: marked
    }
    assert missing_periods(db, caller=caller_of(reporting.supplier), since=now - timedelta(days=91)) == {
        supplier_id: marked
    }
    assert missing_periods(db, caller=caller_of(reporting.oem), since=now + timedelta(weeks=4)) == {}
    assert missing_periods(db, caller=caller_of(other_supplier), since=now - timedelta(days=91)) == {}
    stranger = make_org(db, OrgKind.OEM)
    as_stranger = Caller(org_id=stranger.id, org_kind=OrgKind.OEM, client_id="x", scopes=frozenset())
    assert missing_periods(db, caller=as_stranger, since=now - timedelta(days=91)) == {}
    lab = make_org(db, OrgKind.LAB)
    as_lab = Caller(org_id=lab.id, org_kind=OrgKind.LAB, client_id="x", scopes=frozenset())
    assert missing_periods(db, caller=as_lab, since=now - timedelta(days=91)) == {}
