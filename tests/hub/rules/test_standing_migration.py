"""The migration that gives every active agreement's supplier its standing: pairs already active before the hub
opened standings at acceptance get tier A, approved, no history; a pair with a standing keeps it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from hub import migrate
from hub.agreements import service as agreements
from hub.auth.tokens import Caller
from hub.db import make_engine
from hub.models import Organization, Standing, StandingChange, SupplyAgreement
from protocol.models.agreements import AgreementCreate
from protocol.models.common import AgreementStatus, OrgKind
from tests.conftest import _drop_database, _fresh_database_url, make_settings
from tests.hub.conftest import make_org
from tests.hub.kpis.conftest import agreement_body

BEFORE = "dcc585a1e262"


def caller_of_org(org: Organization) -> Caller:
    return Caller(org_id=org.id, org_kind=OrgKind(org.kind), client_id="test", scopes=frozenset())


@pytest.fixture
def engine_before(tmp_path: Path) -> Iterator[Engine]:
    url = _fresh_database_url(tmp_path, "standings")
    engine = make_engine(make_settings(url))
    migrate.upgrade(engine, BEFORE)
    yield engine
    engine.dispose()
    _drop_database(url)


def _active_agreement(session: Session) -> SupplyAgreement:
    oem, supplier = make_org(session, OrgKind.OEM), make_org(session, OrgKind.SUPPLIER)
    data = AgreementCreate.model_validate(agreement_body(supplier.id))
    agreement = agreements.propose(session, caller=caller_of_org(oem), data=data)
    # Accepted the way the hub did before this change: no standing was opened.
    session.execute(
        update(SupplyAgreement)
        .where(SupplyAgreement.id == agreement.id)
        .values(status=AgreementStatus.ACTIVE.value, decided_at=datetime.now(UTC))
    )
    session.commit()
    return agreement


def test_active_pairs_get_their_standing_and_existing_ones_are_kept(engine_before: Engine) -> None:
    with Session(engine_before, expire_on_commit=False) as session:
        fresh = _active_agreement(session)
        earned = _active_agreement(session)
        session.add(
            Standing(oem_id=earned.oem_id, supplier_id=earned.supplier_id, tier="C", status="probation")
        )
        proposed = agreements.propose(
            session,
            caller=caller_of_org(make_org(session, OrgKind.OEM)),
            data=AgreementCreate.model_validate(agreement_body(make_org(session, OrgKind.SUPPLIER).id)),
        )
        session.commit()

    migrate.upgrade(engine_before)

    with Session(engine_before) as session:
        standings = {(s.oem_id, s.supplier_id): (s.tier, s.status) for s in session.scalars(select(Standing))}
        assert standings == {
            (fresh.oem_id, fresh.supplier_id): ("A", "approved"),
            (earned.oem_id, earned.supplier_id): ("C", "probation"),
        }
        assert (proposed.oem_id, proposed.supplier_id) not in standings
        assert session.scalars(select(StandingChange)).all() == []
