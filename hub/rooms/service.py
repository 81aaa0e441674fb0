"""Opening rooms, membership (invitations, acceptance, named people, removal) and reading rooms back."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.errors import Conflict, Forbidden, InvalidInput, NotFound
from hub.models import Organization, OrgKey, Room, RoomDataset, RoomMember, RoomStep, RoomWrappedKey
from hub.models.base import uuid7
from hub.notifications import service as notifications
from hub.pagination import keyset, page_of
from hub.rooms import access
from hub.rooms.access import Seat
from protocol.encoding import b64url_encode
from protocol.jwk import okp_jwk
from protocol.models import rooms as wire
from protocol.models.rooms import EightDStep, RoomRole, RoomStatus


def _people(people: Sequence[wire.Person]) -> list[dict[str, str]]:
    return [person.model_dump(mode="json") for person in people]


def _organization(session: Session, org_id: uuid.UUID, loc: str) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise InvalidInput(f"no organization {org_id}", loc=loc)
    return org


def _source_notification(session: Session, *, caller: Caller, notification_id: uuid.UUID) -> None:
    # A room may grow out of an alert or investigation only its opener took part in; any other id, existing or
    # not, is the same unknown reference, so a room cannot be used to probe other organizations' cases.
    try:
        notifications.get(session, caller=caller, notification_id=notification_id)
    except NotFound:
        raise InvalidInput(
            "no quality notification your organization sent or received has this id",
            loc="body.notification_id",
        ) from None


def open_room(session: Session, *, caller: Caller, data: wire.RoomCreate, now: datetime) -> Seat:
    if data.expires_at <= now:
        raise InvalidInput("expires_at must be in the future", loc="body.expires_at")
    invited: set[uuid.UUID] = set()
    for index, invite in enumerate(data.members):
        loc = f"body.members.{index}.organization_id"
        _organization(session, invite.organization_id, loc)
        if invite.organization_id == caller.org_id or invite.organization_id in invited:
            raise InvalidInput("each organization is a member once (the owner is one already)", loc=loc)
        invited.add(invite.organization_id)
    if data.notification_id is not None:
        _source_notification(session, caller=caller, notification_id=data.notification_id)
    room = Room(
        id=uuid7(),
        title=data.title,
        description=data.description,
        owner_id=caller.org_id,
        status=RoomStatus.OPEN.value,
        deletion_policy=data.deletion_policy.value,
        notification_id=data.notification_id,
        expires_at=data.expires_at,
        created_at=now,
    )
    session.add(room)
    owner = RoomMember(
        room_id=room.id,
        organization_id=caller.org_id,
        role=RoomRole.OWNER.value,
        people=_people(data.people),
        invited_at=now,
        invited_by=None,
        accepted_at=now,
    )
    session.add(owner)
    session.add_all(
        RoomStep(room_id=room.id, step=step.value, content="", evidence=[]) for step in EightDStep
    )
    session.flush()
    access.record(
        session,
        room=room,
        caller=caller,
        action="opened",
        data={
            "title": room.title,
            "deletion_policy": room.deletion_policy,
            "expires_at": room.expires_at.isoformat(),
            "notification_id": str(room.notification_id) if room.notification_id else None,
        },
    )
    for invite in data.members:
        _invite(session, room=room, caller=caller, data=invite, now=now)
    return Seat(room, owner)


def _invite(
    session: Session, *, room: Room, caller: Caller, data: wire.MemberInvite, now: datetime
) -> RoomMember:
    member = session.scalar(
        select(RoomMember).where(
            RoomMember.room_id == room.id, RoomMember.organization_id == data.organization_id
        )
    )
    if member is not None and member.removed_at is None:
        raise Conflict(f"organization {data.organization_id} is a member already")
    if member is None:
        member = RoomMember(room_id=room.id, organization_id=data.organization_id)
        session.add(member)
    member.role = data.role.value
    member.people = _people(data.people)
    member.invited_at, member.invited_by = now, caller.org_id
    member.accepted_at = member.removed_at = None
    session.flush()
    access.record(
        session,
        room=room,
        caller=caller,
        action="member_invited",
        data={"organization_id": data.organization_id, "role": member.role},
        also_notify=(data.organization_id,),
    )
    return member


def invite(
    session: Session, *, caller: Caller, room_id: uuid.UUID, data: wire.MemberInvite, now: datetime
) -> RoomMember:
    seat = access.seat(session, caller=caller, room_id=room_id, owner=True)
    _organization(session, data.organization_id, "body.organization_id")
    return _invite(session, room=seat.room, caller=caller, data=data, now=now)


def accept(
    session: Session, *, caller: Caller, room_id: uuid.UUID, data: wire.MemberAccept, now: datetime
) -> RoomMember:
    seat = access.seat(session, caller=caller, room_id=room_id, accepted=False)
    if seat.room.status != RoomStatus.OPEN.value:
        raise Conflict("the room is closed")
    if seat.member.accepted_at is not None:
        raise Conflict("your organization has accepted already")
    seat.member.accepted_at = now
    if data.people:
        seat.member.people = _people(data.people)
    access.record(
        session, room=seat.room, caller=caller, action="member_joined", data={"role": seat.member.role}
    )
    return seat.member


def set_people(
    session: Session, *, caller: Caller, room_id: uuid.UUID, org_id: uuid.UUID, data: wire.PeopleUpdate
) -> RoomMember:
    seat = access.seat(session, caller=caller, room_id=room_id, accepted=False)
    if org_id != caller.org_id:
        if access.member_of(session, room_id, org_id) is None:
            raise NotFound("member not found")
        raise Forbidden("an organization names only its own people")
    if seat.room.status != RoomStatus.OPEN.value:
        raise Conflict("the room is closed")
    seat.member.people = _people(data.people)
    access.record(
        session, room=seat.room, caller=caller, action="people_changed", data={"people": len(data.people)}
    )
    return seat.member


def remove(session: Session, *, caller: Caller, room_id: uuid.UUID, org_id: uuid.UUID, now: datetime) -> None:
    """The owner removes a member, or a member leaves (declining an invitation is leaving). The removed
    organization's wrapped keys go at once: it sees the room as 404 from now on and needs no key to come.
    The 8D steps it owned and had not signed off lose their owner."""
    leaving = org_id == caller.org_id
    seat = access.seat(
        session, caller=caller, room_id=room_id, accepted=not leaving, owner=not leaving, lock="update"
    )
    if leaving and seat.is_owner:
        raise Conflict("the owner cannot leave its room; close it")
    if leaving and seat.room.status != RoomStatus.OPEN.value:
        raise Conflict("the room is closed")
    member = access.member_of(session, room_id, org_id)
    if member is None:
        raise NotFound("member not found")
    member.removed_at = now
    # Its open 8D steps go back to the room owner to assign; what it signed off stays signed.
    session.execute(
        update(RoomStep)
        .where(RoomStep.room_id == room_id, RoomStep.owner_id == org_id, RoomStep.signed_off_at.is_(None))
        .values(owner_id=None)
        .execution_options(synchronize_session="fetch")
    )
    dataset_ids = select(RoomDataset.id).where(RoomDataset.room_id == room_id)
    session.execute(
        delete(RoomWrappedKey).where(
            RoomWrappedKey.organization_id == org_id, RoomWrappedKey.dataset_id.in_(dataset_ids)
        )
    )
    session.flush()
    access.record(
        session,
        room=seat.room,
        caller=caller,
        action="member_left" if leaving else "member_removed",
        data={"organization_id": org_id},
        also_notify=(org_id,),
    )


def get_room(session: Session, *, caller: Caller, room_id: uuid.UUID) -> Seat:
    return access.seat(session, caller=caller, room_id=room_id, accepted=False)


def list_rooms(
    session: Session, *, caller: Caller, status: RoomStatus | None = None, cursor: str | None, limit: int
) -> tuple[list[Seat], str | None]:
    """Newest first: room ids are UUIDv7."""
    query = (
        select(Room, RoomMember)
        .join(RoomMember, RoomMember.room_id == Room.id)
        .where(RoomMember.organization_id == caller.org_id, RoomMember.removed_at.is_(None))
    )
    if status is not None:
        query = query.where(Room.status == status.value)
    rows = session.execute(keyset(query, Room.id, cursor=cursor, limit=limit, newest_first=True))
    return page_of([Seat(room, member) for room, member in rows], limit, last_id=lambda seat: seat.room.id)


def list_members(
    session: Session,
    *,
    caller: Caller,
    room_id: uuid.UUID,
    include_removed: bool = False,
    cursor: str | None,
    limit: int,
) -> tuple[list[RoomMember], str | None]:
    """In invitation order (ids are UUIDv7; the owner's seat is made first), former members among them when
    asked for."""
    access.seat(session, caller=caller, room_id=room_id, accepted=False)
    query = select(RoomMember).where(RoomMember.room_id == room_id)
    if not include_removed:
        query = query.where(RoomMember.removed_at.is_(None))
    rows = list(session.scalars(keyset(query, RoomMember.id, cursor=cursor, limit=limit)))
    return page_of(rows, limit, last_id=lambda member: member.id)


def get_member(session: Session, *, caller: Caller, room_id: uuid.UUID, member_id: uuid.UUID) -> RoomMember:
    """One seat of a room the caller sits in, by its id (what an Idempotency-Key remembers of an invitation)."""
    access.seat(session, caller=caller, room_id=room_id, accepted=False)
    member = session.get(RoomMember, member_id)
    if member is None or member.room_id != room_id:
        raise NotFound("member not found")
    return member


def member_key(session: Session, *, caller: Caller, room_id: uuid.UUID, key_id: str) -> OrgKey:
    """A public key of an organization that is or was a member of the room, revoked ones included (the
    status says so): a dataset's manifest stays verifiable after its uploader left the room."""
    access.seat(session, caller=caller, room_id=room_id)
    key = session.get(OrgKey, key_id)
    if key is None:
        raise NotFound("key not found")
    member = session.scalar(
        select(RoomMember.id).where(
            RoomMember.room_id == room_id, RoomMember.organization_id == key.organization_id
        )
    )
    if member is None:
        raise NotFound("key not found")
    return key


def _key_as_wire(key: OrgKey) -> wire.MemberKey:
    raw = b64url_encode(key.public_key)
    return wire.MemberKey(
        key_id=key.key_id,
        algorithm="X25519" if key.use == "enc" else "Ed25519",
        public_key=raw,
        status=key.status,
        jwk={**okp_jwk(key.public_key, crv="X25519" if key.use == "enc" else "Ed25519"), "kid": key.key_id},
    )


def members_as_wire(session: Session, members: Sequence[RoomMember]) -> list[wire.Member]:
    org_ids = [member.organization_id for member in members]
    names = access.org_names(session, org_ids)
    keys = session.scalars(
        select(OrgKey)
        .where(OrgKey.organization_id.in_(org_ids), OrgKey.status != "revoked")
        .order_by(OrgKey.created_at)
    ).all()
    result = []
    for member in members:
        own = [key for key in keys if key.organization_id == member.organization_id]
        encryption = [key for key in own if key.use == "enc" and key.status == "active"]
        result.append(
            wire.Member(
                organization_id=member.organization_id,
                organization_name=names.get(member.organization_id, ""),
                role=RoomRole(member.role),
                people=[wire.Person.model_validate(person) for person in member.people],
                invited_at=member.invited_at,
                invited_by=member.invited_by,
                accepted_at=member.accepted_at,
                removed_at=member.removed_at,
                encryption_key=_key_as_wire(encryption[-1]) if encryption else None,
                signing_keys=[_key_as_wire(key) for key in own if key.use == "sig"],
            )
        )
    return result


def room_as_wire(session: Session, seat: Seat, *, with_members: bool = True) -> wire.Room:
    room = seat.room
    return wire.Room(
        id=room.id,
        title=room.title,
        description=room.description,
        owner_id=room.owner_id,
        status=RoomStatus(room.status),
        deletion_policy=wire.DeletionPolicy(room.deletion_policy),
        notification_id=room.notification_id,
        expires_at=room.expires_at,
        created_at=room.created_at,
        closed_at=room.closed_at,
        shredded_at=room.shredded_at,
        your_role=seat.role,
        members=members_as_wire(session, access.current_members(session, room.id)) if with_members else [],
    )
