"""The background sealer chains new entries on its own while the hub serves."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hub.app import create_app
from hub.db import make_engine, make_session_factory
from hub.models import AuditCheckpoint, AuditEntry
from hub.orgs import service as orgs
from protocol.models.common import OrgKind
from protocol.models.orgs import OrganizationCreate
from tests.conftest import make_settings


def test_the_running_hub_seals_and_signs_new_entries(fresh_database: str) -> None:
    settings = make_settings(fresh_database, audit_seal_interval_seconds=0.05)
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    with factory() as session, session.begin():
        orgs.create_organization(
            session, actor="test", data=OrganizationCreate(name="Acme", kind=OrgKind.OEM)
        )
    try:
        with TestClient(create_app(settings)):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                with factory() as session:
                    unsealed = session.scalar(select(func.count()).where(AuditEntry.seq.is_(None)))
                    checkpoints = session.scalar(select(func.count()).select_from(AuditCheckpoint))
                if unsealed == 0 and checkpoints:
                    break
                time.sleep(0.05)
        assert unsealed == 0
        assert checkpoints == 1
    finally:
        engine.dispose()
