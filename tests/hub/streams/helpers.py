"""What the NATS and the Kafka bridge tests (and the bridge bench) both need: a session factory on a fresh database
built by the migrations, an organization detached from its session, events, and a platform's cursor."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session, sessionmaker

from hub.db import make_engine, make_session_factory
from hub.models import Event, KafkaStream, NatsStream, Organization
from protocol.models.common import OrgKind
from tests.conftest import make_settings
from tests.hub.conftest import make_org
from tests.hub.webhooks.helpers import make_events

Factory = sessionmaker[Session]


def session_factory(database_url: str) -> Iterator[Factory]:
    """The body of a ``factory`` fixture: sessions on ``database_url``, the engine disposed afterwards."""
    engine = make_engine(make_settings(database_url))
    yield make_session_factory(engine)
    engine.dispose()


def detached_org(factory: Factory, kind: OrgKind = OrgKind.OEM) -> Organization:
    with factory() as session:
        org = make_org(session, kind)
        session.expunge(org)
        return org


def committed_events(factory: Factory, org: Organization, *types: str) -> list[Event]:
    with factory.begin() as session:
        made = make_events(session, org, *types)
        session.expunge_all()
        return made


def cursor(factory: Factory, table: type[NatsStream] | type[KafkaStream], org: Organization) -> int:
    with factory() as session:
        return session.get_one(table, org.id).position
