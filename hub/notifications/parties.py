"""Who a notification goes to, and whether each party may name the assets it names.

Catena-X refuses an affected item the receiver does not know (422). Here an organization *knows* an asset it made,
received (a shipment to it) or built in (a link it asserted with the asset as child). An INVESTIGATION names supplier
assets its sender knows and goes to their manufacturers; an ALERT names its sender's own assets and goes to the
organizations that know them: its direct customers. A receiver is given only the assets it knows.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select, union
from sqlalchemy.orm import Session

from hub.errors import InvalidInput
from hub.models import Asset, AssetLink, Organization, Shipment
from protocol.models.notifications import NotificationType


def known_to(session: Session, *, org_id: uuid.UUID, asset_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``asset_ids`` the organization received or built in (its own assets are not counted)."""
    received = select(Shipment.asset_id.label("asset_id")).where(
        Shipment.customer_organization_id == org_id, Shipment.asset_id.in_(asset_ids)
    )
    built_in = select(AssetLink.child_id.label("asset_id")).where(
        AssetLink.organization_id == org_id, AssetLink.child_id.in_(asset_ids)
    )
    return {row for row in session.scalars(select(union(received, built_in).subquery().c.asset_id))}


def knowers(session: Session, *, asset_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, set[uuid.UUID]]:
    """Organizations that received or built in any of ``asset_ids``, each with the ones it knows."""
    received = select(
        Shipment.customer_organization_id.label("org_id"), Shipment.asset_id.label("asset_id")
    ).where(Shipment.asset_id.in_(asset_ids))
    built_in = select(AssetLink.organization_id.label("org_id"), AssetLink.child_id.label("asset_id")).where(
        AssetLink.child_id.in_(asset_ids)
    )
    found: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for org_id, asset_id in session.execute(select(union(received, built_in).subquery())):
        found[org_id].add(asset_id)
    return found


def receivers_and_assets(
    session: Session,
    *,
    sender_id: uuid.UUID,
    type: NotificationType,
    asset_ids: Sequence[uuid.UUID],
    receiver_ids: Sequence[uuid.UUID] | None,
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Each receiver with the assets it is told about, in the order given; 422 naming the first bad field."""
    assets = {asset.id: asset for asset in session.scalars(select(Asset).where(Asset.id.in_(asset_ids)))}
    groups: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if type is NotificationType.INVESTIGATION:
        known = known_to(session, org_id=sender_id, asset_ids=asset_ids)
        for index, asset_id in enumerate(asset_ids):
            asset = assets.get(asset_id)
            # Absent and not-yours-to-name look the same: the answer must not reveal what exists elsewhere.
            if asset is None or asset.organization_id == sender_id or asset_id not in known:
                raise InvalidInput(
                    f"affected_asset_ids[{index}] ({asset_id}) is not a supplier asset your organization "
                    "received or built in",
                    loc=f"body.affected_asset_ids.{index}",
                )
            groups[asset.organization_id].append(asset_id)
    else:
        for index, asset_id in enumerate(asset_ids):
            asset = assets.get(asset_id)
            if asset is None or asset.organization_id != sender_id:
                raise InvalidInput(
                    f"affected_asset_ids[{index}] ({asset_id}) is not one of your organization's assets",
                    loc=f"body.affected_asset_ids.{index}",
                )
        for org_id, known_assets in knowers(session, asset_ids=asset_ids).items():
            if org_id != sender_id:
                groups[org_id] = [asset_id for asset_id in asset_ids if asset_id in known_assets]
    if receiver_ids is not None:
        groups = _chosen(session, sender_id=sender_id, type=type, groups=groups, receiver_ids=receiver_ids)
    if not groups:
        raise InvalidInput(
            "no other organization has received or built in these assets: there is nobody to alert",
            loc="body.affected_asset_ids",
        )
    return dict(groups)


def _chosen(
    session: Session,
    *,
    sender_id: uuid.UUID,
    type: NotificationType,
    groups: dict[uuid.UUID, list[uuid.UUID]],
    receiver_ids: Sequence[uuid.UUID],
) -> dict[uuid.UUID, list[uuid.UUID]]:
    existing = set(session.scalars(select(Organization.id).where(Organization.id.in_(receiver_ids))))
    seen: set[uuid.UUID] = set()
    for index, receiver_id in enumerate(receiver_ids):
        loc = f"body.receiver_ids.{index}"
        if receiver_id in seen:
            raise InvalidInput(f"receiver_ids[{index}] ({receiver_id}) is named twice", loc=loc)
        seen.add(receiver_id)
        if receiver_id == sender_id:
            raise InvalidInput(f"receiver_ids[{index}] is your own organization", loc=loc)
        if receiver_id not in existing or receiver_id not in groups:
            what = "manufactured" if type is NotificationType.INVESTIGATION else "received or built in"
            raise InvalidInput(
                f"receiver_ids[{index}] ({receiver_id}) has not {what} any of the affected assets", loc=loc
            )
    if type is NotificationType.INVESTIGATION:
        # Every suspected lot goes to its manufacturer: a lot whose maker is left out would be named to nobody.
        for receiver_id, asset_ids in groups.items():
            if receiver_id not in seen:
                raise InvalidInput(
                    f"affected asset {asset_ids[0]} is made by an organization not among receiver_ids",
                    loc="body.receiver_ids",
                )
    return {receiver_id: groups[receiver_id] for receiver_id in receiver_ids}
