"""Racing requests, each in its own committed transaction: an alert is contained once, an action moves once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from hub.auth.tokens import Caller
from hub.containment import service as containment
from hub.db import make_engine, make_session_factory
from hub.errors import Conflict
from hub.models import Asset, AssetLink, ContainmentAction, Hold, InventoryPosition, PartType, Plant, Shipment
from hub.notifications import service as notifications
from hub.orgs import service as orgs
from protocol.models.common import OrgKind
from protocol.models.notifications import NotificationType, QualityNotificationCreate
from protocol.models.orgs import OrganizationCreate
from tests.conftest import make_settings

RACERS = 4


def _lot(session: Session, org: uuid.UUID, name: str) -> uuid.UUID:
    part = PartType(organization_id=org, manufacturer_part_id=f"P-{name}", name_at_manufacturer=name)
    session.add(part)
    session.flush()
    lot = Asset(
        organization_id=org, kind="batch", local_id=name, part_type_id=part.id, quantity=100, unit="pcs"
    )
    session.add(lot)
    session.flush()
    return lot.id


def _network(factory: sessionmaker[Session]) -> tuple[Caller, Caller, uuid.UUID]:
    """A capacitor maker's lot in a module maker's lot, stock of both at the module maker's two plants."""
    with factory.begin() as session:
        maker, customer = (
            orgs.create_organization(
                session, actor="test", data=OrganizationCreate(name=name, kind=OrgKind.SUPPLIER)
            )
            for name in ("Capacitors", "Modules")
        )
        capacitor, module = _lot(session, maker.id, "C1"), _lot(session, customer.id, "M1")
        session.add(
            AssetLink(
                parent_key=str(module),
                child_key=str(capacitor),
                parent_id=module,
                child_id=capacitor,
                organization_id=customer.id,
            )
        )
        plants = [Plant(organization_id=customer.id, code=f"P{i}", name=f"plant {i}") for i in range(2)]
        session.add_all(plants)
        session.flush()
        session.add(
            Shipment(
                asset_id=capacitor,
                organization_id=maker.id,
                customer_organization_id=customer.id,
                plant_id=plants[0].id,
                delivery_note="DN-1",
                shipped_on=date(2026, 11, 2),
                quantity=Decimal(100),
                unit="pcs",
            )
        )
        for plant in plants:
            for asset in (capacitor, module):
                session.add(
                    InventoryPosition(
                        asset_id=asset, plant_id=plant.id, location="A", quantity=10, unit="pcs"
                    )
                )
        alert = notifications.create(
            session,
            caller=Caller(maker.id, OrgKind.SUPPLIER, "test", frozenset()),
            data=QualityNotificationCreate(
                type=NotificationType.ALERT, title="t", affected_asset_ids=[capacitor]
            ),
        )
    return (
        Caller(maker.id, OrgKind.SUPPLIER, "test", frozenset()),
        Caller(customer.id, OrgKind.SUPPLIER, "test", frozenset()),
        alert.id,
    )


def _race(
    factory: sessionmaker[Session], work: Callable[[Session], object]
) -> tuple[int, int, list[BaseException]]:
    barrier = threading.Barrier(RACERS)
    done, refused, errors = [0], [0], []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            with factory.begin() as session:
                work(session)
            done[0] += 1
        except Conflict:
            refused[0] += 1
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return done[0], refused[0], errors


def test_racing_sends_contain_an_alert_once_and_racing_acknowledgements_move_an_action_once(
    fresh_database: str,
) -> None:
    engine = make_engine(make_settings(fresh_database))
    factory = make_session_factory(engine)
    try:
        sender, plant_owner, alert_id = _network(factory)

        def send(session: Session) -> object:
            return notifications.transition(
                session, caller=sender, notification_id=alert_id, name="send", reason=None
            )

        assert _race(factory, send) == (1, RACERS - 1, [])
        with factory() as session:
            holds = session.scalar(
                select(func.count()).select_from(Hold).where(Hold.notification_id == alert_id)
            )
            actions = list(session.scalars(select(ContainmentAction).order_by(ContainmentAction.id)))
        assert holds == 4 and len(actions) == 2  # two lots at two plants, once

        def acknowledge(session: Session) -> object:
            return containment.acknowledge(
                session, caller=plant_owner, action_id=actions[0].id, owner="A. Kim"
            )

        assert _race(factory, acknowledge) == (1, RACERS - 1, [])
    finally:
        engine.dispose()
