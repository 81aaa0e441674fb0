"""Closing a room: the hub signs the 8D summary, then shreds ciphertext and wrapped keys where the room's
deletion policy says so. The summary stays and exports as JSON (the signed envelope) or Markdown.

The summary is a :class:`~protocol.signing.SignedEnvelope` of type ``room-8d-summary`` signed with the hub's
token key (the one that signs audit checkpoints; its public half is in ``/.well-known/jwks.json`` under the
envelope's ``key_id``), over the canonical bytes of :class:`~protocol.models.rooms.RoomSummary`. It names the
datasets (name, size, SHA-256 of the ciphertext, kept or shredded) but holds nothing of their content."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.errors import Conflict
from hub.models import (
    Room,
    RoomAnnotation,
    RoomDataset,
    RoomStep,
    RoomSummary,
    RoomWrappedKey,
)
from hub.rooms import access, storage
from protocol.models import rooms as wire
from protocol.models.rooms import EIGHT_D_TITLES, ROOM_SUMMARY_TYPE, DatasetStatus, DeletionPolicy, EightDStep
from protocol.signing import SignedEnvelope, sign_envelope


def close_room(
    session: Session,
    *,
    caller: Caller,
    room_id: uuid.UUID,
    note: str,
    signing_key: Ed25519PrivateKey,
    key_id: str,
    now: datetime,
) -> access.Seat:
    seat = access.seat(session, caller=caller, room_id=room_id, owner=True, lock="update")
    close(session, room=seat.room, caller=caller, note=note, signing_key=signing_key, key_id=key_id, now=now)
    return seat


def close(
    session: Session,
    *,
    room: Room,
    caller: Caller | None,
    note: str,
    signing_key: Ed25519PrivateKey,
    key_id: str,
    now: datetime,
) -> SignedEnvelope:
    """Close ``room`` (by its owner, or by the expiry job when ``caller`` is None), sign its summary and shred
    per policy, all in the caller's transaction."""
    if room.status != wire.RoomStatus.OPEN.value:
        raise Conflict("the room is closed already")
    shred = room.deletion_policy == DeletionPolicy.DELETE_AFTER_CLOSING.value
    room.status, room.closed_at = wire.RoomStatus.CLOSED.value, now
    room.closed_by = caller.actor if caller is not None else access.HUB_ACTOR
    datasets = list(
        session.scalars(
            select(RoomDataset).where(RoomDataset.room_id == room.id).order_by(RoomDataset.created_at)
        )
    )
    removed = 0
    if shred:
        ids = [dataset.id for dataset in datasets]
        removed = storage.shred(session, dataset_ids=ids)
        if ids:
            session.execute(delete(RoomWrappedKey).where(RoomWrappedKey.dataset_id.in_(ids)))
        for dataset in datasets:
            dataset.status, dataset.shredded_at = DatasetStatus.SHREDDED.value, now
        room.shredded_at = now
    summary = _summary(session, room=room, datasets=datasets, note=note, closed_by=caller)
    envelope = sign_envelope(
        summary, type=ROOM_SUMMARY_TYPE, private_key=signing_key, key_id=key_id, signed_at=now
    )
    session.add(RoomSummary(room_id=room.id, envelope=envelope.model_dump(mode="json"), created_at=now))
    session.flush()
    access.record(
        session,
        room=room,
        caller=caller,
        action="closed",
        data={
            "expired": caller is None,
            "shredded": shred,
            "datasets_shredded": len(datasets) if shred else 0,
            "chunk_rows_deleted": removed,
        },
    )
    return envelope


def _summary(
    session: Session, *, room: Room, datasets: list[RoomDataset], note: str, closed_by: Caller | None
) -> wire.RoomSummary:
    members = access.current_members(session, room.id)
    names = access.org_names(session, [m.organization_id for m in members] + [room.owner_id])
    steps = session.scalars(select(RoomStep).where(RoomStep.room_id == room.id).order_by(RoomStep.step)).all()
    findings = session.scalars(
        select(RoomAnnotation)
        .where(
            RoomAnnotation.room_id == room.id,
            RoomAnnotation.tag.in_(["hypothesis", "root_cause", "verified", "rejected"]),
        )
        .order_by(RoomAnnotation.created_at)
    ).all()
    return wire.RoomSummary(
        room={
            "id": str(room.id),
            "title": room.title,
            "description": room.description,
            "owner_id": str(room.owner_id),
            "owner_name": names.get(room.owner_id, ""),
            "deletion_policy": room.deletion_policy,
            "notification_id": str(room.notification_id) if room.notification_id else None,
            "created_at": room.created_at.isoformat(),
            "expires_at": room.expires_at.isoformat(),
        },
        members=[
            {
                "organization_id": str(m.organization_id),
                "organization_name": names.get(m.organization_id, ""),
                "role": m.role,
                "accepted": m.accepted_at is not None,
                "people": m.people,
            }
            for m in members
        ],
        steps=[
            {
                "step": row.step,
                "title": EIGHT_D_TITLES[EightDStep(row.step)],
                "owner_id": str(row.owner_id) if row.owner_id else None,
                "owner_name": names.get(row.owner_id, "") if row.owner_id else "",
                "content": row.content,
                "evidence": row.evidence,
                "revision": row.revision,
                "signed_off_at": row.signed_off_at.isoformat() if row.signed_off_at else None,
            }
            for row in steps
        ],
        annotations=[
            {
                "id": str(a.id),
                "organization_id": str(a.organization_id),
                "tag": a.tag,
                "body": a.body,
                "dataset_id": str(a.dataset_id) if a.dataset_id else None,
                "revision": a.revision,
            }
            for a in findings
        ],
        datasets=[
            {
                "id": str(d.id),
                "name": d.name,
                "media_type": d.media_type,
                "plaintext_size": d.plaintext_size,
                "ciphertext_size": d.ciphertext_size,
                "ciphertext_sha256": d.ciphertext_sha256,
                "uploaded_by": str(d.uploaded_by),
                "content": "shredded" if d.status == DatasetStatus.SHREDDED.value else "kept",
            }
            for d in datasets
        ],
        closed_at=room.closed_at.isoformat() if room.closed_at else "",
        closed_by="expiry" if closed_by is None else str(closed_by.org_id),
        note=note,
    )


def export(session: Session, *, caller: Caller, room_id: uuid.UUID) -> SignedEnvelope:
    seat = access.seat(session, caller=caller, room_id=room_id)
    stored = session.get(RoomSummary, seat.room.id)
    if stored is None:
        raise Conflict("the room is open; its signed 8D summary is made when it closes")
    return SignedEnvelope.model_validate(stored.envelope)


def _cell(text: Any) -> str:
    return str(text).replace("\r", "").strip()


def as_markdown(envelope: SignedEnvelope) -> str:
    """A readable 8D report; the signed envelope itself is appended, so the Markdown carries its proof."""
    summary = wire.RoomSummary.model_validate(envelope.payload)
    room = summary.room
    lines = [
        f"# 8D report: {_cell(room['title'])}",
        "",
        f"- Room: `{room['id']}`, owner {_cell(room['owner_name'])} (`{room['owner_id']}`)",
        f"- Opened {room['created_at']}, closed {summary.closed_at}"
        + (" (expired)" if summary.closed_by == "expiry" else ""),
        f"- Data deletion policy: {room['deletion_policy']}",
    ]
    if room.get("notification_id"):
        lines.append(f"- Quality notification: `{room['notification_id']}`")
    if room.get("description"):
        lines += ["", _cell(room["description"])]
    lines += ["", "## Team", ""]
    for member in summary.members:
        people = (
            ", ".join(f"{p['name']} ({p.get('role') or 'member'})" for p in member["people"]) or "none named"
        )
        lines.append(f"- {_cell(member['organization_name'])}, {member['role']}: {people}")
    for step in summary.steps:
        signed = f"signed off {step['signed_off_at']}" if step["signed_off_at"] else "not signed off"
        owner = _cell(step["owner_name"]) or "no owner"
        lines += ["", f"## {step['step']} {step['title']}", "", f"_{owner}, {signed}_", ""]
        lines.append(_cell(step["content"]) or "(empty)")
        for item in step["evidence"]:
            lines.append(f"- evidence: {item['kind']} `{item['id']}`")
    if summary.annotations:
        lines += ["", "## Findings", ""]
        for note in summary.annotations:
            lines.append(f"- **{note['tag']}**: {_cell(note['body'])}")
    if summary.datasets:
        lines += ["", "## Datasets", ""]
        for data in summary.datasets:
            lines.append(
                f"- {_cell(data['name'])} ({data['plaintext_size']} bytes), ciphertext SHA-256 "
                f"`{data['ciphertext_sha256']}`, {data['content']}"
            )
    if summary.note:
        lines += ["", "## Closing note", "", _cell(summary.note)]
    signed = json.dumps(envelope.model_dump(mode="json"), indent=2, sort_keys=True, ensure_ascii=False)
    lines += [
        "",
        "## Signature",
        "",
        f"Signed by the hub on {envelope.signed_at.isoformat()} with key `{envelope.key_id}` "
        "(see /.well-known/jwks.json). The signed envelope:",
        "",
        "```json",
        signed,
        "```",
        "",
    ]
    return "\n".join(lines)
