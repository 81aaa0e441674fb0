"""fan_out: one pending delivery per event and matching active webhook of the event's organization."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import make_engine, make_session_factory
from hub.events import service as events
from hub.events.sequencer import sequence_once
from hub.models import Event, WebhookDelivery
from hub.webhooks import service as webhooks
from protocol.models.common import OrgKind
from tests.conftest import make_settings
from tests.hub.conftest import make_org
from tests.hub.webhooks.helpers import make_events, make_webhook


def test_fan_out_matches_by_organization_and_type_filter(db: Session) -> None:
    oem, other = make_org(db, OrgKind.OEM), make_org(db, OrgKind.SUPPLIER)
    every, _ = make_webhook(db, oem)
    accepted_only, _ = make_webhook(db, oem, types=["report.accepted", "room.message"])
    disabled, _ = make_webhook(db, oem)
    disabled.disabled_at = disabled.created_at
    others, _ = make_webhook(db, other)
    made = make_events(db, oem, "report.accepted", "standing.changed") + make_events(
        db, other, "report.accepted"
    )

    created = webhooks.fan_out(db, events=made)

    rows = list(db.scalars(select(WebhookDelivery)))
    assert created == len(rows) == 4
    assert Counter(row.webhook_id for row in rows) == {every.id: 2, accepted_only.id: 1, others.id: 1}
    by_hook = {(row.webhook_id, row.event_seq) for row in rows}
    assert (accepted_only.id, made[0].seq) in by_hook
    assert (others.id, made[2].seq) in by_hook
    assert all(row.status == "pending" and row.attempts == 0 for row in rows)


def test_fan_out_of_nothing_or_without_webhooks_creates_nothing(db: Session) -> None:
    lonely = make_org(db, OrgKind.SUPPLIER)
    assert webhooks.fan_out(db, events=[]) == 0
    assert webhooks.fan_out(db, events=make_events(db, lonely, "report.accepted")) == 0
    assert db.scalars(select(WebhookDelivery)).first() is None


def test_the_sequencer_fans_out_what_it_numbers_in_the_same_round(fresh_database: str) -> None:
    engine = make_engine(make_settings(fresh_database))
    factory = make_session_factory(engine)
    try:
        with factory() as session:
            org = make_org(session, OrgKind.OEM)
            webhook, _ = make_webhook(session, org, types=["report.accepted"])
            for type_ in ("report.accepted", "standing.changed", "report.accepted"):
                events.publish(session, type=type_, subject_id="s", views={org.id: {}})
            session.commit()

        assert sequence_once(factory) == 3
        assert sequence_once(factory) == 0

        with factory() as session:
            delivered = session.execute(
                select(Event.type, Event.position)
                .join(WebhookDelivery, WebhookDelivery.event_seq == Event.seq)
                .where(WebhookDelivery.webhook_id == webhook.id)
            ).all()
        assert len(delivered) == 2
        assert {type_ for type_, _ in delivered} == {"report.accepted"}
        assert all(position is not None for _, position in delivered)
    finally:
        engine.dispose()
