"""The data-sharing degree (hub.rules.sharing): investigations answered within target, open containment
actions, reports on time and proven, per counterparty, and nothing of another organization's relations."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from sqlalchemy.orm import Session

from hub.models import KpiReport, SupplyAgreement
from hub.models.base import utcnow
from hub.rules.sharing import DataSharing, data_sharing
from protocol.models.common import OrgKind, PeriodKind
from protocol.periods import due_at, period_containing
from tests.hub.conftest import make_actor
from tests.hub.kpis.conftest import Reporting, caller_of, stored_report_row
from tests.hub.notifications.chain import Chain, build_chain
from tests.hub.notifications.conftest import alert, investigation, moved
from tests.hub.rules.test_standing import report_weeks


@pytest.fixture
def chain(db: Session, client: TestClient) -> Chain:
    return build_chain(db, client)


def test_the_degree_is_the_mean_of_the_measurable_shares_less_open_actions() -> None:
    assert DataSharing().degree is None
    assert DataSharing(due=4, on_time=3, reports=4, proven=1).degree == 50  # (75 + 25) / 2
    assert (
        DataSharing(due=4, on_time=3, reports=4, proven=1, investigations=2, answered_in_time=2).degree == 67
    )
    assert DataSharing(due=2, on_time=2, reports=2, proven=2, open_actions=2).degree == 90
    assert DataSharing(due=1, on_time=0, reports=1, proven=0, open_actions=1).degree == 0  # never below 0
    assert DataSharing(due=1, on_time=1, reports=1, proven=1, open_actions=9).degree == 75  # at most 25 off


def test_investigations_count_when_due_and_in_time_when_answered_by_the_target(
    db: Session, chain: Chain
) -> None:
    target = (utcnow() + timedelta(days=2)).replace(microsecond=0)
    answered = investigation(chain, severity="MAJOR", target_date=target.isoformat())["id"]
    moved(chain.oem, answered, "send")
    moved(chain.ecu, answered, "acknowledge")
    moved(chain.ecu, answered, "accept", "our lot E1, sorting")
    waiting = investigation(chain, severity="MAJOR", target_date=target.isoformat())["id"]
    moved(chain.oem, waiting, "send")
    db.commit()

    oem = caller_of(chain.oem)
    now = data_sharing(db, caller=oem, now=utcnow())[chain.ecu.org.id]
    assert (now.investigations, now.answered_in_time) == (1, 1)  # the waiting one is not due yet
    later = data_sharing(db, caller=oem, now=target + timedelta(days=1))[chain.ecu.org.id]
    assert (later.investigations, later.answered_in_time, later.share_answered) == (2, 1, 0.5)
    # The supplier sees the same figures about itself, keyed by the OEM; another OEM sees nothing.
    mine = data_sharing(db, caller=caller_of(chain.ecu), now=target + timedelta(days=1))
    assert (mine[chain.oem.org.id].investigations, mine[chain.oem.org.id].answered_in_time) == (2, 1)
    stranger = make_actor(db, chain.oem.http, OrgKind.OEM)
    assert data_sharing(db, caller=caller_of(stranger), now=target + timedelta(days=1)) == {}


def test_open_containment_actions_count_until_closed(db: Session, chain: Chain) -> None:
    nid = str(alert(chain, severity="CRITICAL")["id"])
    moved(chain.capacitor, nid, "send", "withstand voltage 38 V instead of 50 V")
    db.commit()
    ecu = caller_of(chain.ecu)
    assert data_sharing(db, caller=ecu, now=utcnow())[chain.capacitor.org.id].open_actions == 1
    from hub.containment import service as containment

    action = containment.list_actions(db, caller=ecu)[0][0]
    containment.acknowledge(db, caller=ecu, action_id=action.id, owner="J. Weber")
    containment.close(db, caller=ecu, action_id=action.id, result="412 pcs sorted")
    assert chain.capacitor.org.id not in data_sharing(db, caller=ecu, now=utcnow())


def test_reports_on_time_and_proven_within_the_window(db: Session, reporting: Reporting) -> None:
    report_weeks(reporting, ["1.5000", "1.6000"])
    oem = caller_of(reporting.oem)
    found = data_sharing(db, caller=oem, now=utcnow(), counterparty=reporting.supplier.org.id)
    sharing = found[reporting.supplier.org.id]
    assert (sharing.reports, sharing.due, sharing.proven) == (2, 2, 0)
    assert 0 <= sharing.on_time <= 2 and sharing.degree is not None
    # Half a year on the window holds none of them.
    assert data_sharing(db, caller=oem, now=utcnow() + timedelta(days=200)) == {}


def test_a_report_after_its_due_date_is_late_and_one_by_it_on_time(db: Session, reporting: Reporting) -> None:
    days = db.get(SupplyAgreement, reporting.agreement_id).report_due_days  # type: ignore[union-attr]
    late_week = period_containing(utcnow(), PeriodKind.WEEK).previous()
    prompt_week = late_week.previous()
    db.execute(
        insert(KpiReport),
        [
            stored_report_row(reporting, prompt_week, received_at=due_at(prompt_week, days)),
            stored_report_row(
                reporting, late_week, received_at=due_at(late_week, days) + timedelta(seconds=1)
            ),
        ],
    )
    db.flush()
    now = due_at(late_week, days) + timedelta(days=1)
    sharing = data_sharing(db, caller=caller_of(reporting.oem), now=now)[reporting.supplier.org.id]
    assert (sharing.reports, sharing.due, sharing.on_time, sharing.share_on_time) == (2, 2, 1, 0.5)
