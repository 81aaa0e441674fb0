"""Joint investigation rooms, as the hub's ``/v1/rooms`` endpoints take and return them.

A room gathers member organizations (owner, contributors, observers) around one problem. Datasets are
encrypted by the uploader before they reach the hub: the hub keeps ciphertext, one wrapped data key per member
organization and the uploader's signed :class:`DatasetManifest`, never a data key or a plaintext byte.
Members annotate, fill the 8D record (D1 to D8) and the owner closes the room; the hub then signs an 8D summary
(:class:`RoomSummary`, inside a :class:`~protocol.signing.SignedEnvelope` of type ``room-8d-summary``).

Example:
    >>> RoomCreate(title="Compressor noise", expires_at="2026-12-31T00:00:00Z").deletion_policy
    <DeletionPolicy.DELETE_AFTER_CLOSING: 'delete_after_closing'>
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import ConfigDict, Field, StrictInt, field_validator

from protocol.encoding import b64url_decode
from protocol.errors import EncodingError
from protocol.models import room_records
from protocol.models.common import WireModel
from protocol.models.room_records import (
    Anchor,
    Annotation,
    AnnotationCreate,
    AnnotationEdit,
    AnnotationRevision,
    AnnotationTag,
    EightDRecordStep,
    EightDStep,
    EightDUpdate,
    Evidence,
    RoomSummary,
    TimelineEntry,
)
from protocol.signing import SignedEnvelope

EIGHT_D_TITLES = room_records.EIGHT_D_TITLES
"""Title of each 8D step (defined in :mod:`protocol.models.room_records`).

Example:
    >>> EIGHT_D_TITLES[EightDStep.D4]
    'Root cause analysis'
"""

DATASET_MANIFEST_TYPE = "room-dataset-manifest"
"""The ``type`` of the :class:`~protocol.signing.SignedEnvelope` in which an uploader signs a dataset manifest.

Example:
    >>> DATASET_MANIFEST_TYPE
    'room-dataset-manifest'
"""

ROOM_SUMMARY_TYPE = "room-8d-summary"
"""The ``type`` of the envelope in which the hub signs a closed room's 8D summary (with its token key).

Example:
    >>> ROOM_SUMMARY_TYPE
    'room-8d-summary'
"""

WRAP_ALGORITHM: Literal["X25519-HKDF-SHA256-AES256GCM"] = "X25519-HKDF-SHA256-AES256GCM"
"""The one key-wrapping algorithm: ephemeral X25519, HKDF-SHA256 bound to room, dataset and key id, AES-256-GCM.

Example:
    >>> WRAP_ALGORITHM.split("-")[0]
    'X25519'
"""

ROOM_EVENT_TYPES = (
    "room.opened",
    "room.member_invited",
    "room.member_joined",
    "room.people_changed",
    "room.member_left",
    "room.member_removed",
    "room.dataset_announced",
    "room.dataset_uploaded",
    "room.dataset_keys_added",
    "room.annotation_added",
    "room.annotation_edited",
    "room.step_updated",
    "room.step_signed_off",
    "room.step_reopened",
    "room.closed",
)
"""Events a room sends to every member organization (and to one it removes). The payload is small:
``room_id``, ``action`` (the type without ``room.``) and the ids of what changed; fetch the rest from the API.

Example:
    >>> "room.closed" in ROOM_EVENT_TYPES
    True
"""

SHA256_HEX_PATTERN = r"^[0-9a-f]{64}$"
"""Shape of a SHA-256 digest on the wire: 64 lower-case hex digits.

Example:
    >>> import re
    >>> bool(re.match(SHA256_HEX_PATTERN, "0" * 64))
    True
"""

_MEDIA_TYPE = r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$"
_KEY_ID = r"^[A-Za-z0-9._:-]{1,128}$"


class RoomRole(StrEnum):
    """What a member organization may do: the owner runs the room, contributors write, observers read.

    Example:
        >>> RoomRole("observer")
        <RoomRole.OBSERVER: 'observer'>
    """

    OWNER = "owner"
    CONTRIBUTOR = "contributor"
    OBSERVER = "observer"


class RoomStatus(StrEnum):
    """A room is open until its owner closes it or it expires.

    Example:
        >>> RoomStatus.CLOSED.value
        'closed'
    """

    OPEN = "open"
    CLOSED = "closed"


class DeletionPolicy(StrEnum):
    """What happens to ciphertext and wrapped keys when the room closes (Catena-X QualityTask's policy).

    Example:
        >>> DeletionPolicy("keep")
        <DeletionPolicy.KEEP: 'keep'>
    """

    DELETE_AFTER_CLOSING = "delete_after_closing"
    KEEP = "keep"


class DatasetStatus(StrEnum):
    """A dataset is announced, then its ciphertext uploaded; closing with deletion shreds it.

    Example:
        >>> [status.value for status in DatasetStatus]
        ['awaiting_content', 'available', 'shredded']
    """

    AWAITING_CONTENT = "awaiting_content"
    AVAILABLE = "available"
    SHREDDED = "shredded"


class Person(WireModel):
    """A named person of a member organization in the room.

    Example:
        >>> Person(name="Anna Berg", email="anna.berg@oem.example", role="quality engineer").name
        'Anna Berg'
    """

    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    role: str = Field(default="", max_length=200, description="The person's part, e.g. 'team lead'")


class MemberInvite(WireModel):
    """The owner invites an organization as contributor or observer.

    Example:
        >>> MemberInvite(organization_id=uuid.UUID(int=1)).role
        <RoomRole.CONTRIBUTOR: 'contributor'>
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "organization_id": "6f1e2d3c-4b5a-4e69-9788-a1b2c3d4e5f6",
                    "role": "contributor",
                    "people": [
                        {
                            "name": "Jonas Weber",
                            "email": "jonas.weber@supplier.example",
                            "role": "quality engineer",
                        }
                    ],
                }
            ]
        }
    )

    organization_id: uuid.UUID
    role: Literal[RoomRole.CONTRIBUTOR, RoomRole.OBSERVER] = RoomRole.CONTRIBUTOR
    people: list[Person] = Field(default_factory=list, max_length=50)


class RoomCreate(WireModel):
    """Open a room; the caller's organization becomes its owner. ``members`` are invited at once.

    Example:
        >>> room = RoomCreate(title="Compressor noise", expires_at="2026-12-31T00:00:00Z",
        ...                   deletion_policy="keep")
        >>> room.deletion_policy.value, room.notification_id
        ('keep', None)
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title": "Compressor noise at 41 °C",
                    "description": "Field returns from three dealers; test logs from the OEM and the compressor supplier.",
                    "expires_at": "2027-03-31T00:00:00Z",
                    "deletion_policy": "delete_after_closing",
                    "people": [{"name": "Anna Berg", "email": "anna.berg@aurora.example", "role": "8D lead"}],
                    "members": [
                        {"organization_id": "6f1e2d3c-4b5a-4e69-9788-a1b2c3d4e5f6", "role": "contributor"}
                    ],
                }
            ]
        }
    )

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=10000)
    expires_at: datetime = Field(description="When the room closes by itself (UTC)")
    deletion_policy: DeletionPolicy = DeletionPolicy.DELETE_AFTER_CLOSING
    notification_id: uuid.UUID | None = Field(
        default=None, description="The quality notification it came from"
    )
    people: list[Person] = Field(default_factory=list, max_length=50, description="The owner's named people")
    members: list[MemberInvite] = Field(default_factory=list, max_length=50)

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("expires_at must be timezone-aware (UTC)")
        return value


class MemberAccept(WireModel):
    """Accept an invitation, naming the people who take part.

    Example:
        >>> MemberAccept().people
        []
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "people": [
                        {
                            "name": "Jonas Weber",
                            "email": "jonas.weber@supplier.example",
                            "role": "quality engineer",
                        }
                    ]
                }
            ]
        }
    )

    people: list[Person] = Field(default_factory=list, max_length=50)


class PeopleUpdate(WireModel):
    """Replace the named people of your own organization in a room.

    Example:
        >>> PeopleUpdate(people=[Person(name="Li Wei", email="li@motor.example")]).people[0].role
        ''
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"people": [{"name": "Anna Berg", "email": "anna.berg@aurora.example", "role": "8D lead"}]}
            ]
        }
    )

    people: list[Person] = Field(max_length=50)


class MemberKey(WireModel):
    """A member organization's public key: ``public_key`` is the raw 32 bytes, base64url, ``jwk`` the same as JWK.

    Example:
        >>> MemberKey(key_id="k1", algorithm="X25519", public_key="A" * 43, status="active").jwk
        {}
    """

    key_id: str
    algorithm: Literal["X25519", "Ed25519"]
    public_key: str
    status: str
    jwk: dict[str, str] = Field(default_factory=dict)


class Member(WireModel):
    """A member organization of a room, its role, people, invitation and keys.

    ``encryption_key`` is the organization's active X25519 key (wrap data keys to it); ``signing_keys`` its
    Ed25519 keys that still verify (check manifest signatures with them). Both are empty for members that
    registered none.

    Example:
        >>> sorted(Member.model_fields)[:4]
        ['accepted_at', 'encryption_key', 'invited_at', 'invited_by']
    """

    organization_id: uuid.UUID
    organization_name: str
    role: RoomRole
    people: list[Person]
    invited_at: datetime
    invited_by: uuid.UUID | None = Field(description="The organization that invited it (none for the owner)")
    accepted_at: datetime | None
    removed_at: datetime | None = None
    encryption_key: MemberKey | None = None
    signing_keys: list[MemberKey] = Field(default_factory=list)


class Room(WireModel):
    """A room as its members see it.

    Example:
        >>> "your_role" in Room.model_fields and "shredded_at" in Room.model_fields
        True
    """

    id: uuid.UUID
    title: str
    description: str
    owner_id: uuid.UUID
    status: RoomStatus
    deletion_policy: DeletionPolicy
    notification_id: uuid.UUID | None
    expires_at: datetime
    created_at: datetime
    closed_at: datetime | None = None
    shredded_at: datetime | None = Field(
        default=None, description="When ciphertext and wrapped keys were deleted"
    )
    your_role: RoomRole
    members: list[Member] = Field(default_factory=list)


class RoomClose(WireModel):
    """Close a room, with an optional closing note that goes into the signed 8D summary.

    Example:
        >>> RoomClose(note="root cause fixed at the motor supplier").note[:4]
        'root'
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"note": "Root cause verified: bearing preload out of tolerance in motor lot M-2291."}
            ]
        }
    )

    note: str = Field(default="", max_length=10000)


def _b64url_bytes(value: str, *, size: int | None, name: str) -> str:
    try:
        raw = b64url_decode(value)
    except EncodingError as exc:
        raise ValueError(f"{name} must be base64url without padding") from exc
    if size is not None and len(raw) != size:
        raise ValueError(f"{name} must be {size} bytes, got {len(raw)}")
    return value


class WrappedKey(WireModel):
    """The dataset's data key, wrapped to one member organization's X25519 key.

    Example:
        >>> key = WrappedKey(organization_id=uuid.UUID(int=2), recipient_key_id="k-enc",
        ...                  ephemeral_public_key="A" * 43, wrapped_key="B" * 64)
        >>> key.algorithm
        'X25519-HKDF-SHA256-AES256GCM'
    """

    organization_id: uuid.UUID
    recipient_key_id: str = Field(pattern=_KEY_ID, description="The member's X25519 key id (RFC 7638)")
    ephemeral_public_key: str = Field(max_length=64, description="Raw 32-byte X25519 public key, base64url")
    wrapped_key: str = Field(min_length=16, max_length=512, description="AEAD output, base64url")
    algorithm: Literal["X25519-HKDF-SHA256-AES256GCM"] = WRAP_ALGORITHM

    @field_validator("ephemeral_public_key")
    @classmethod
    def _ephemeral(cls, value: str) -> str:
        return _b64url_bytes(value, size=32, name="ephemeral_public_key")

    @field_validator("wrapped_key")
    @classmethod
    def _wrapped(cls, value: str) -> str:
        return _b64url_bytes(value, size=None, name="wrapped_key")


class DatasetManifest(WireModel):
    """What the uploader signs (envelope type :data:`DATASET_MANIFEST_TYPE`) before the hub stores a dataset.

    ``recipient_key_ids`` are the key ids of the wrapped keys given at upload, sorted. The hub checks that
    the manifest matches the :class:`DatasetCreate` beside it; downloaders check the signature with the
    uploader's key (``Member.signing_keys``) and the ciphertext's SHA-256 before releasing plaintext.

    Example:
        >>> manifest = DatasetManifest(room_id=uuid.UUID(int=1), dataset_id=uuid.UUID(int=2), name="log.csv",
        ...     media_type="text/csv", plaintext_size=10, chunk_size=1048576, ciphertext_size=54,
        ...     ciphertext_sha256="0" * 64, recipient_key_ids=["k1"])
        >>> sorted(manifest.model_dump(mode="json"))[:3]
        ['chunk_size', 'ciphertext_sha256', 'ciphertext_size']
    """

    room_id: uuid.UUID
    dataset_id: uuid.UUID
    name: str = Field(min_length=1, max_length=300)
    media_type: str = Field(pattern=_MEDIA_TYPE)
    plaintext_size: StrictInt = Field(ge=0, le=2**53)
    chunk_size: StrictInt = Field(ge=1024, le=64 * 1024 * 1024)
    ciphertext_size: StrictInt = Field(ge=0, le=2**53)
    ciphertext_sha256: str = Field(pattern=SHA256_HEX_PATTERN)
    recipient_key_ids: list[str] = Field(max_length=200)


# A dataset manifest as the SDK signs it (a throwaway key; ids as in the other examples), for the API's examples.
_MANIFEST_EXAMPLE: dict[str, Any] = {
    "type": "room-dataset-manifest",
    "key_id": "1IG2tMH7J2wbJZnOf8LJzQitKf7LMvoAElsuDMVM54Y",
    "signed_at": "2026-11-23T08:30:00Z",
    "nonce": "EBESExQVFhcYGRobHB0eHw",
    "payload": {
        "chunk_size": 1048576,
        "ciphertext_sha256": "3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f",
        "ciphertext_size": 48257,
        "dataset_id": "4d3c2b1a-0f9e-4d8c-b7a6-958473625140",
        "media_type": "text/csv",
        "name": "bench-run-17.csv",
        "plaintext_size": 48213,
        "recipient_key_ids": ["x25519-oem-1"],
        "room_id": "9a8b7c6d-5e4f-4a3b-9c2d-1e0f2a3b4c5d",
    },
    "signature": "2_iAOHG4RBYHwE__ElcplMhsqFUhPxCzBOb0G2STkqcm8CsNH1qV5GyVZXeMO3bWoWDL9H3g8hASRo1MuaFYAw",
}


class DatasetCreate(WireModel):
    """Announce a dataset: its id (chosen by the client, so the ciphertext can bind it), sizes, digest,
    the signed manifest and a wrapped key for every accepted member organization that has an X25519 key. The ciphertext follows
    with ``PUT /v1/rooms/{room_id}/datasets/{id}/content``.

    Example:
        >>> "manifest_signature" in DatasetCreate.model_fields
        True
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "4d3c2b1a-0f9e-4d8c-b7a6-958473625140",
                    "name": "bench-run-17.csv",
                    "media_type": "text/csv",
                    "plaintext_size": 48213,
                    "chunk_size": 1048576,
                    "ciphertext_size": 48257,
                    "ciphertext_sha256": "3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f",
                    "manifest_signature": _MANIFEST_EXAMPLE,
                    "wrapped_keys": [
                        {
                            "organization_id": "0b9a3c1e-5d2f-4a67-8e10-3f4b5c6d7e81",
                            "recipient_key_id": "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM",
                            "ephemeral_public_key": "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM",
                            "wrapped_key": "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8",
                        }
                    ],
                }
            ]
        }
    )

    id: uuid.UUID
    name: str = Field(min_length=1, max_length=300)
    media_type: str = Field(default="application/octet-stream", pattern=_MEDIA_TYPE)
    plaintext_size: StrictInt = Field(ge=0, le=2**53)
    chunk_size: StrictInt = Field(ge=1024, le=64 * 1024 * 1024)
    ciphertext_size: StrictInt = Field(ge=0, le=2**53)
    ciphertext_sha256: str = Field(pattern=SHA256_HEX_PATTERN)
    manifest_signature: SignedEnvelope
    wrapped_keys: list[WrappedKey] = Field(min_length=1, max_length=200)


class WrappedKeysAdd(WireModel):
    """Wrapped keys an existing member adds for organizations that joined after the upload.

    Example:
        >>> WrappedKeysAdd(wrapped_keys=[]).wrapped_keys
        []
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "wrapped_keys": [
                        {
                            "organization_id": "0b9a3c1e-5d2f-4a67-8e10-3f4b5c6d7e81",
                            "recipient_key_id": "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM",
                            "ephemeral_public_key": "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM",
                            "wrapped_key": "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8",
                        }
                    ]
                }
            ]
        }
    )

    wrapped_keys: list[WrappedKey] = Field(max_length=200)


class Dataset(WireModel):
    """A dataset's metadata, with the data key wrapped for the caller's organization (if it holds one).

    ``missing_keys`` lists accepted member organizations that hold no wrapped key yet: a member who can
    decrypt re-wraps for them (the hub cannot).

    Example:
        >>> "wrapped_key" in Dataset.model_fields and "missing_keys" in Dataset.model_fields
        True
    """

    id: uuid.UUID
    room_id: uuid.UUID
    name: str
    media_type: str
    plaintext_size: int
    chunk_size: int
    ciphertext_size: int
    ciphertext_sha256: str
    uploaded_by: uuid.UUID
    status: DatasetStatus
    created_at: datetime
    uploaded_at: datetime | None = None
    shredded_at: datetime | None = None
    manifest_signature: SignedEnvelope
    wrapped_key: WrappedKey | None = None
    missing_keys: list[uuid.UUID] = Field(default_factory=list)


__all__ = [
    "DATASET_MANIFEST_TYPE",
    "EIGHT_D_TITLES",
    "ROOM_EVENT_TYPES",
    "ROOM_SUMMARY_TYPE",
    "SHA256_HEX_PATTERN",
    "WRAP_ALGORITHM",
    "Anchor",
    "Annotation",
    "AnnotationCreate",
    "AnnotationEdit",
    "AnnotationRevision",
    "AnnotationTag",
    "Dataset",
    "DatasetCreate",
    "DatasetManifest",
    "DatasetStatus",
    "DeletionPolicy",
    "EightDRecordStep",
    "EightDStep",
    "EightDUpdate",
    "Evidence",
    "Member",
    "MemberAccept",
    "MemberInvite",
    "MemberKey",
    "PeopleUpdate",
    "Person",
    "Room",
    "RoomClose",
    "RoomCreate",
    "RoomRole",
    "RoomStatus",
    "RoomSummary",
    "TimelineEntry",
    "WrappedKey",
    "WrappedKeysAdd",
]
