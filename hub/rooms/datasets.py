"""Encrypted datasets: announcing one (signed manifest, a wrapped key for every member), uploading and
downloading its ciphertext, and re-wrapping its key for organizations that joined later.

The hub never holds a data key: it checks what it can (the uploader's signature over the manifest, that the
manifest says what the request says, that every accepted member gets a wrapped key addressed to its active
X25519 key, the ciphertext's size and SHA-256) and stores the rest as opaque bytes."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.errors import Conflict, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from hub.models import Organization, OrgKey, RoomDataset, RoomMember, RoomWrappedKey
from hub.pagination import keyset, page_of
from hub.rooms import access, storage
from hub.rooms.access import Seat
from hub.rooms.errors import (
    ContentMismatch,
    DatasetShredded,
    InvalidManifest,
    MissingWrappedKey,
    UnknownRecipientKey,
)
from protocol.errors import SignatureInvalid
from protocol.models import rooms as wire
from protocol.models.rooms import DATASET_MANIFEST_TYPE, DatasetStatus
from protocol.signing import SignedEnvelope, public_key_from_raw, verify_envelope

_MANIFEST = "body.manifest_signature"
_COMPARED = ("name", "media_type", "plaintext_size", "chunk_size", "ciphertext_size", "ciphertext_sha256")


def _check_manifest(
    session: Session, *, caller: Caller, room_id: uuid.UUID, data: wire.DatasetCreate
) -> None:
    envelope = data.manifest_signature
    if envelope.type != DATASET_MANIFEST_TYPE:
        raise InvalidManifest(f"manifest type must be '{DATASET_MANIFEST_TYPE}'", loc=f"{_MANIFEST}.type")
    try:
        manifest = wire.DatasetManifest.model_validate(envelope.payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join([f"{_MANIFEST}.payload", *(str(part) for part in first["loc"])])
        raise InvalidManifest(f"{loc}: {first['msg']}", loc=loc) from exc
    expected = {
        "room_id": room_id,
        "dataset_id": data.id,
        **{name: getattr(data, name) for name in _COMPARED},
    }
    expected["recipient_key_ids"] = sorted(key.recipient_key_id for key in data.wrapped_keys)
    signed = {name: getattr(manifest, name) for name in expected}
    signed["recipient_key_ids"] = sorted(manifest.recipient_key_ids)
    for name, value in expected.items():
        if signed[name] != value:
            raise InvalidManifest(
                f"the signed manifest's {name} differs from the request's", loc=f"{_MANIFEST}.payload.{name}"
            )
    key = session.get(OrgKey, envelope.key_id)
    if key is None or key.organization_id != caller.org_id or key.use != "sig" or key.status == "revoked":
        raise InvalidManifest(
            f"key {envelope.key_id} is not a signing key of your organization", loc=f"{_MANIFEST}.key_id"
        )
    if key.status == "retired" and key.retired_at is not None and envelope.signed_at >= key.retired_at:
        raise InvalidManifest(
            f"key {key.key_id} was retired before the manifest was signed", loc=f"{_MANIFEST}.key_id"
        )
    try:
        verify_envelope(envelope, public_key_from_raw(key.public_key), expected_type=DATASET_MANIFEST_TYPE)
    except SignatureInvalid as exc:
        raise InvalidManifest(
            f"manifest signature does not verify with key {key.key_id}", loc=f"{_MANIFEST}.signature"
        ) from exc


def _check_wrapped_keys(
    session: Session, *, room_id: uuid.UUID, keys: list[wire.WrappedKey], loc: str
) -> dict[uuid.UUID, RoomMember]:
    """Each key goes to a current member organization, once, addressed to its active X25519 key."""
    members = {member.organization_id: member for member in access.current_members(session, room_id)}
    names = access.org_names(session, list(members))
    seen: set[uuid.UUID] = set()
    for index, key in enumerate(keys):
        org_id = key.organization_id
        if org_id not in members:
            raise InvalidInput(
                f"organization {org_id} is not a member of the room", loc=f"{loc}.{index}.organization_id"
            )
        if org_id in seen:
            raise InvalidInput(
                f"two wrapped keys for {names.get(org_id)} ({org_id})", loc=f"{loc}.{index}.organization_id"
            )
        seen.add(org_id)
        registered = session.get(OrgKey, key.recipient_key_id)
        if (
            registered is None
            or registered.organization_id != org_id
            or registered.use != "enc"
            or registered.status != "active"
        ):
            raise UnknownRecipientKey(
                f"{key.recipient_key_id} is not the active X25519 key of {names.get(org_id)} ({org_id})",
                loc=f"{loc}.{index}.recipient_key_id",
            )
    return members


def create_dataset(
    session: Session,
    *,
    caller: Caller,
    room_id: uuid.UUID,
    data: wire.DatasetCreate,
    max_bytes: int,
    now: datetime,
) -> RoomDataset:
    seat = access.seat(session, caller=caller, room_id=room_id, write=True, lock="share")
    if data.ciphertext_size > max_bytes:
        raise PayloadTooLarge(f"ciphertext_size exceeds this hub's limit of {max_bytes} bytes")
    if session.get(RoomDataset, data.id) is not None:
        raise Conflict(f"dataset id {data.id} is taken")
    _check_manifest(session, caller=caller, room_id=room_id, data=data)
    members = _check_wrapped_keys(session, room_id=room_id, keys=data.wrapped_keys, loc="body.wrapped_keys")
    given = {key.organization_id for key in data.wrapped_keys}
    # A member that registered no X25519 key yet cannot be wrapped to: it does not block the upload, and
    # shows in missing_keys until someone re-wraps for it.
    wrappable = set(
        session.scalars(
            select(OrgKey.organization_id).where(
                OrgKey.organization_id.in_(list(members)), OrgKey.use == "enc", OrgKey.status == "active"
            )
        )
    )
    for org_id, member in members.items():
        if member.accepted_at is not None and org_id not in given and org_id in wrappable:
            name = session.get(Organization, org_id)
            raise MissingWrappedKey(
                f"no wrapped key for member organization {name.name if name else ''} ({org_id})",
                loc="body.wrapped_keys",
            )
    dataset = RoomDataset(
        id=data.id,
        room_id=room_id,
        uploaded_by=caller.org_id,
        name=data.name,
        media_type=data.media_type,
        plaintext_size=data.plaintext_size,
        chunk_size=data.chunk_size,
        ciphertext_size=data.ciphertext_size,
        ciphertext_sha256=data.ciphertext_sha256,
        manifest_signature=data.manifest_signature.model_dump(mode="json"),
        status=DatasetStatus.AWAITING_CONTENT.value,
        created_at=now,
    )
    session.add(dataset)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent request took the id between the check and the insert
        raise Conflict(f"dataset id {data.id} is taken") from exc
    _store_keys(session, dataset=dataset, keys=data.wrapped_keys, added_by=caller.org_id, now=now)
    access.record(
        session,
        room=seat.room,
        caller=caller,
        action="dataset_announced",
        data={"dataset_id": dataset.id, "name": dataset.name, "ciphertext_size": dataset.ciphertext_size},
    )
    return dataset


def _store_keys(
    session: Session, *, dataset: RoomDataset, keys: list[wire.WrappedKey], added_by: uuid.UUID, now: datetime
) -> None:
    session.add_all(
        RoomWrappedKey(
            dataset_id=dataset.id,
            organization_id=key.organization_id,
            recipient_key_id=key.recipient_key_id,
            ephemeral_public_key=key.ephemeral_public_key,
            wrapped_key=key.wrapped_key,
            algorithm=key.algorithm,
            added_by=added_by,
            created_at=now,
        )
        for key in keys
    )
    session.flush()


def _dataset(session: Session, seat: Seat, dataset_id: uuid.UUID) -> RoomDataset:
    dataset = access.in_room(session, RoomDataset, seat.room.id, dataset_id)
    if dataset is None:
        raise NotFound("dataset not found")
    return dataset


def upload_content(
    session: Session,
    *,
    caller: Caller,
    room_id: uuid.UUID,
    dataset_id: uuid.UUID,
    pieces: Iterable[bytes],
    declared_size: int | None,
    now: datetime,
) -> RoomDataset:
    """Store the ciphertext from a stream; any mismatch raises and the transaction keeps nothing."""
    seat = access.seat(session, caller=caller, room_id=room_id, write=True, lock="share")
    dataset = _dataset(session, seat, dataset_id)
    if dataset.uploaded_by != caller.org_id:
        raise Forbidden("only the organization that announced the dataset uploads its content")
    if dataset.status != DatasetStatus.AWAITING_CONTENT.value:
        raise Conflict(f"dataset is {dataset.status}; its content was uploaded already")
    if declared_size is not None and declared_size != dataset.ciphertext_size:
        raise ContentMismatch(
            f"Content-Length {declared_size} differs from ciphertext_size {dataset.ciphertext_size}",
            loc="header.content-length",
        )
    size, sha256 = storage.write(session, dataset_id=dataset.id, pieces=pieces, limit=dataset.ciphertext_size)
    if size != dataset.ciphertext_size:
        raise ContentMismatch(
            f"content is {size} bytes, ciphertext_size says {dataset.ciphertext_size}", loc="body"
        )
    if sha256 != dataset.ciphertext_sha256:
        raise ContentMismatch("the content's SHA-256 differs from ciphertext_sha256", loc="body")
    dataset.status, dataset.uploaded_at = DatasetStatus.AVAILABLE.value, now
    access.record(
        session,
        room=seat.room,
        caller=caller,
        action="dataset_uploaded",
        data={"dataset_id": dataset.id, "name": dataset.name, "ciphertext_sha256": dataset.ciphertext_sha256},
    )
    return dataset


def open_content(
    session: Session, *, caller: Caller, room_id: uuid.UUID, dataset_id: uuid.UUID
) -> tuple[RoomDataset, Iterator[bytes]]:
    seat = access.seat(session, caller=caller, room_id=room_id)
    dataset = _dataset(session, seat, dataset_id)
    if dataset.status == DatasetStatus.SHREDDED.value:
        raise DatasetShredded("the dataset was shredded when the room closed")
    if dataset.status != DatasetStatus.AVAILABLE.value:
        raise Conflict("the dataset's content has not been uploaded yet")
    return dataset, storage.read(session, dataset_id=dataset.id)


def add_wrapped_keys(
    session: Session,
    *,
    caller: Caller,
    room_id: uuid.UUID,
    dataset_id: uuid.UUID,
    data: wire.WrappedKeysAdd,
    now: datetime,
) -> RoomDataset:
    """A member that holds the data key wraps it for members that joined later (the hub cannot)."""
    seat = access.seat(session, caller=caller, room_id=room_id, write=True, lock="share")
    dataset = _dataset(session, seat, dataset_id)
    if dataset.status == DatasetStatus.SHREDDED.value:
        raise DatasetShredded("the dataset was shredded when the room closed")
    held = session.scalars(select(RoomWrappedKey).where(RoomWrappedKey.dataset_id == dataset.id)).all()
    if not any(key.organization_id == caller.org_id for key in held):
        raise Forbidden("your organization holds no key to this dataset, so it cannot wrap one")
    _check_wrapped_keys(session, room_id=room_id, keys=data.wrapped_keys, loc="body.wrapped_keys")
    present = {(key.organization_id, key.recipient_key_id) for key in held}
    for index, key in enumerate(data.wrapped_keys):
        if (key.organization_id, key.recipient_key_id) in present:
            raise Conflict(
                f"organization {key.organization_id} holds a key wrapped to {key.recipient_key_id} already "
                f"(wrapped_keys.{index})"
            )
    _store_keys(session, dataset=dataset, keys=data.wrapped_keys, added_by=caller.org_id, now=now)
    access.record(
        session,
        room=seat.room,
        caller=caller,
        action="dataset_keys_added",
        data={
            "dataset_id": dataset.id,
            "organizations": sorted(str(k.organization_id) for k in data.wrapped_keys),
        },
    )
    return dataset


def get_dataset(
    session: Session, *, caller: Caller, room_id: uuid.UUID, dataset_id: uuid.UUID
) -> RoomDataset:
    seat = access.seat(session, caller=caller, room_id=room_id)
    return _dataset(session, seat, dataset_id)


def list_datasets(
    session: Session, *, caller: Caller, room_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[RoomDataset], str | None]:
    """In id order: the uploader chooses a dataset's id (its ciphertext binds it), so that is not time order,
    but it is the one order in which a cursor stays exact."""
    access.seat(session, caller=caller, room_id=room_id)
    query = keyset(
        select(RoomDataset).where(RoomDataset.room_id == room_id), RoomDataset.id, cursor=cursor, limit=limit
    )
    return page_of(list(session.scalars(query)), limit, last_id=lambda dataset: dataset.id)


def datasets_as_wire(
    session: Session, datasets: list[RoomDataset], *, org_id: uuid.UUID
) -> list[wire.Dataset]:
    """Metadata with the caller's own wrapped key (for its active X25519 key when it has one)."""
    if not datasets:
        return []
    room_id = datasets[0].room_id
    ids = [dataset.id for dataset in datasets]
    keys = session.scalars(
        select(RoomWrappedKey).where(RoomWrappedKey.dataset_id.in_(ids)).order_by(RoomWrappedKey.created_at)
    ).all()
    active = set(
        session.scalars(
            select(OrgKey.key_id).where(
                OrgKey.organization_id == org_id, OrgKey.use == "enc", OrgKey.status == "active"
            )
        )
    )
    accepted = [
        m.organization_id for m in access.current_members(session, room_id) if m.accepted_at is not None
    ]
    result = []
    for dataset in datasets:
        own = [key for key in keys if key.dataset_id == dataset.id and key.organization_id == org_id]
        own.sort(key=lambda key: key.recipient_key_id in active)
        holders = {key.organization_id for key in keys if key.dataset_id == dataset.id}
        mine = own[-1] if own else None
        result.append(
            wire.Dataset(
                id=dataset.id,
                room_id=dataset.room_id,
                name=dataset.name,
                media_type=dataset.media_type,
                plaintext_size=dataset.plaintext_size,
                chunk_size=dataset.chunk_size,
                ciphertext_size=dataset.ciphertext_size,
                ciphertext_sha256=dataset.ciphertext_sha256,
                uploaded_by=dataset.uploaded_by,
                status=DatasetStatus(dataset.status),
                created_at=dataset.created_at,
                uploaded_at=dataset.uploaded_at,
                shredded_at=dataset.shredded_at,
                manifest_signature=SignedEnvelope.model_validate(dataset.manifest_signature),
                wrapped_key=wire.WrappedKey(
                    organization_id=mine.organization_id,
                    recipient_key_id=mine.recipient_key_id,
                    ephemeral_public_key=mine.ephemeral_public_key,
                    wrapped_key=mine.wrapped_key,
                )
                if mine is not None
                else None,
                missing_keys=[]
                if dataset.status == DatasetStatus.SHREDDED.value
                else [org for org in accepted if org not in holders],
            )
        )
    return result
