"""Appending to, sealing and verifying the audit chain.

Chain rule (version 1): ``leaf_hash = SHA-256(JCS(entry content))`` and
``chain_hash = SHA-256(JCS({"leaf": leaf_hash, "prev": previous chain_hash, "seq": seq}))``, with
``prev = "0" * 64`` for the first entry. Checkpoints sign ``JCS({"chain_hash", "issuer", "seq", "signed_at"})``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import BigInteger, String, bindparam, column, select, update, values
from sqlalchemy.orm import Session

from hub.auth.tokens import Caller
from hub.db import insert_rows, take_turn
from hub.models import AuditCheckpoint, AuditEntry, AuditRetentionCheckpoint
from hub.models.base import utcnow
from protocol.encoding import b64url_decode, b64url_encode

GENESIS = "0" * 64
_INSERTED = ("at", "actor", "actor_org_id", "action", "subject_type", "subject_id", "data", "leaf_hash")
SEAL_BATCH = 5000
_SEALER_LOCK_ID = 0x5155414C  # "QUAL": one sealer at a time across every replica (PostgreSQL advisory lock)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _content(entry: AuditEntry) -> dict[str, Any]:
    return {
        "action": entry.action,
        "actor": entry.actor,
        "actor_org_id": str(entry.actor_org_id) if entry.actor_org_id else None,
        "at": entry.at.isoformat(),
        "data": entry.data,
        "subject_id": entry.subject_id,
        "subject_type": entry.subject_type,
    }


def _leaf_hash(entry: AuditEntry) -> str:
    return _sha256(rfc8785.dumps(_content(entry)))


def _chain_hash(seq: int, prev: str, leaf: str) -> str:
    return _sha256(rfc8785.dumps({"leaf": leaf, "prev": prev, "seq": seq}))


def entry_for(
    *,
    actor: str,
    actor_org_id: uuid.UUID | None,
    action: str,
    subject_type: str,
    subject_id: str | uuid.UUID,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """An entry, hashed, not yet written: :func:`append` writes it (or a set of them)."""
    entry = AuditEntry(
        at=utcnow(),
        actor=actor,
        actor_org_id=actor_org_id,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        data=data or {},
    )
    entry.leaf_hash = _leaf_hash(entry)
    return entry


def append(session: Session, entries: Sequence[AuditEntry]) -> None:
    """Write entries in the caller's transaction, in their order; :func:`seal` chains them later.

    A plain INSERT on the connection: no unit of work for rows nothing reads in this transaction, and no
    autoflush, so a caller's pending rows flush (and fail) where the caller flushes."""
    insert_rows(
        session, AuditEntry, [{column: getattr(entry, column) for column in _INSERTED} for entry in entries]
    )


def record(
    session: Session,
    *,
    actor: str,
    actor_org_id: uuid.UUID | None,
    action: str,
    subject_type: str,
    subject_id: str | uuid.UUID,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction; it is chained later by :func:`seal`."""
    entry = entry_for(
        actor=actor,
        actor_org_id=actor_org_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        data=data,
    )
    append(session, [entry])
    return entry


def record_for(
    session: Session,
    caller: Caller,
    *,
    action: str,
    subject_type: str,
    subject_id: str | uuid.UUID,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """:func:`record` for a write an API caller made: the actor is its client, the organization its own."""
    return record(
        session,
        actor=caller.actor,
        actor_org_id=caller.org_id,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        data=data,
    )


def _head(session: Session) -> tuple[int, str]:
    """The chain's last place and hash: the newest sealed entry, or where retention signed it dropped the newest."""
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.chain_hash)
        .where(AuditEntry.seq.is_not(None))
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).first()
    head = (0, GENESIS) if last is None else (int(last[0] or 0), str(last[1]))
    dropped = session.execute(
        select(AuditRetentionCheckpoint.dropped_through, AuditRetentionCheckpoint.anchors)
        .order_by(AuditRetentionCheckpoint.dropped_through.desc())
        .limit(1)
    ).first()
    if dropped is not None and int(dropped[0]) > head[0]:
        return int(dropped[0]), str(dropped[1][str(dropped[0])])
    return head


def seal(session: Session, *, signing_key: Ed25519PrivateKey, key_id: str, issuer: str) -> int:
    """Give every unsealed entry its place in the chain, in insertion order, and sign the new head.

    Returns how many entries were sealed. Safe to run from several replicas at once.
    """
    take_turn(session, _SEALER_LOCK_ID)
    seq, prev = _head(session)
    sealed = 0
    while True:
        batch = session.execute(
            select(AuditEntry.id, AuditEntry.leaf_hash)
            .where(AuditEntry.seq.is_(None))
            .order_by(AuditEntry.id)
            .limit(SEAL_BATCH)
        ).all()
        if not batch:
            break
        links = []
        for entry_id, leaf_hash in batch:
            seq += 1
            prev = _chain_hash(seq, prev, leaf_hash)
            links.append((entry_id, seq, prev))
        _link(session, links)
        sealed += len(batch)
    if sealed:
        signed_at = utcnow()
        statement = _checkpoint_statement(seq=seq, chain_hash=prev, signed_at=signed_at, issuer=issuer)
        session.add(
            AuditCheckpoint(
                seq=seq,
                chain_hash=prev,
                signed_at=signed_at,
                key_id=key_id,
                signature=b64url_encode(signing_key.sign(statement)),
            )
        )
        session.flush()
    return sealed


def _link(session: Session, links: list[tuple[int, int, str]]) -> None:
    """Write a batch's places in the chain: on PostgreSQL with one UPDATE … FROM (VALUES …), where one UPDATE per
    entry was one statement per audited write; SQLite (no column names on a VALUES table) runs them as one
    executemany in process."""
    if session.get_bind().dialect.name != "postgresql":
        statement = update(AuditEntry).where(AuditEntry.id == bindparam("entry_id"))
        rows = [{"entry_id": i, "seq": seq, "chain_hash": chain} for i, seq, chain in links]
        session.connection().execute(statement, rows)
        return
    chained = values(
        column("entry_id", BigInteger),
        column("seq", BigInteger),
        column("chain_hash", String),
        name="chained",
    ).data(links)
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.id == chained.c.entry_id)
        .values(seq=chained.c.seq, chain_hash=chained.c.chain_hash),
        execution_options={"synchronize_session": False},
    )


def _checkpoint_statement(*, seq: int, chain_hash: str, signed_at: datetime, issuer: str) -> bytes:
    return rfc8785.dumps(
        {"chain_hash": chain_hash, "issuer": issuer, "seq": seq, "signed_at": signed_at.isoformat()}
    )


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    checkpoints: int
    first_broken_seq: int | None = None
    first_broken_id: int | None = None
    reason: str = ""
    dropped: int = 0  # entries retention dropped under signed retention checkpoints


def retention_statement(
    *,
    boundary: datetime,
    dropped_entries: int,
    dropped_through: int,
    ranges: list[list[int]],
    anchors: dict[str, str],
    signed_at: datetime,
    issuer: str,
) -> bytes:
    """What a retention checkpoint signs (see :class:`hub.models.AuditRetentionCheckpoint`)."""
    return rfc8785.dumps(
        {
            "anchors": anchors,
            "boundary": boundary.isoformat(),
            "dropped_entries": dropped_entries,
            "dropped_through": dropped_through,
            "issuer": issuer,
            "kind": "retention",
            "ranges": ranges,
            "signed_at": signed_at.isoformat(),
        }
    )


@dataclass(frozen=True)
class Retired:
    """What signed retention checkpoints say was dropped: sequence ranges, and the chain hash at each range's end."""

    ranges: list[tuple[int, int]]
    anchors: dict[int, str]
    dropped: int

    def covers(self, first: int, last: int) -> bool:
        """Whether every place from ``first`` to ``last`` (inclusive) lies in a dropped range."""
        for start, end in self.ranges:
            if start <= first <= end:
                first = end + 1
                if first > last:
                    return True
        return first > last


def _signature_problem(
    public_keys: dict[str, Ed25519PublicKey], key_id: str, signature: str, statement: bytes
) -> str | None:
    public_key = public_keys.get(key_id)
    if public_key is None:
        return f"signed by unknown key {key_id}"
    try:
        public_key.verify(b64url_decode(signature), statement)
    except (InvalidSignature, ValueError):
        return "signature is invalid"
    return None


def retired(
    session: Session, *, public_keys: dict[str, Ed25519PublicKey], issuer: str
) -> Retired | VerifyResult:
    """Every retention checkpoint, each signature checked; a :class:`VerifyResult` naming the first bad one."""
    ranges: list[tuple[int, int]] = []
    anchors: dict[int, str] = {}
    dropped = 0
    for cp in session.scalars(select(AuditRetentionCheckpoint).order_by(AuditRetentionCheckpoint.id)):
        statement = retention_statement(
            boundary=cp.boundary,
            dropped_entries=cp.dropped_entries,
            dropped_through=cp.dropped_through,
            ranges=cp.ranges,
            anchors=cp.anchors,
            signed_at=cp.signed_at,
            issuer=issuer,
        )
        problem = _signature_problem(public_keys, cp.key_id, cp.signature, statement)
        if problem is not None:
            return VerifyResult(False, 0, 0, cp.dropped_through, None, f"retention checkpoint {problem}")
        ranges += [(int(start), int(end)) for start, end in cp.ranges]
        anchors.update({int(seq): chain for seq, chain in cp.anchors.items()})
        dropped += cp.dropped_entries
    return Retired(sorted(ranges), anchors, dropped)


def verify(session: Session, *, public_keys: dict[str, Ed25519PublicKey], issuer: str) -> VerifyResult:
    """Recompute every leaf and link, and check every checkpoint; name the first entry that does not hold.

    After retention the chain has gaps: a gap is accepted only where a signed retention checkpoint says those
    places were dropped, and the entry after it must link to the chain hash that checkpoint signed for the place
    before it. So a kept entry altered, removed or inserted still breaks the chain."""
    gone = retired(session, public_keys=public_keys, issuer=issuer)
    if isinstance(gone, VerifyResult):
        return gone
    prev, last_seq, count = GENESIS, 0, 0
    rows = session.scalars(
        select(AuditEntry).order_by(AuditEntry.seq.is_(None), AuditEntry.seq, AuditEntry.id)
    )
    chain: dict[int, str] = {}
    for entry in rows.yield_per(2000):
        count += 1
        if _leaf_hash(entry) != entry.leaf_hash:
            return _broken(entry, count, "content does not match its leaf hash")
        if entry.seq is None:
            continue
        if entry.seq <= last_seq:
            return _broken(entry, count, f"sequence number {entry.seq} used twice")
        if entry.seq != last_seq + 1:
            if not gone.covers(last_seq + 1, entry.seq - 1):
                return _broken(entry, count, f"sequence gap: expected {last_seq + 1}")
            anchor = gone.anchors.get(entry.seq - 1)
            if anchor is None:
                return _broken(entry, count, f"no signed chain hash for dropped entry {entry.seq - 1}")
            prev = anchor
        if _chain_hash(entry.seq, prev, entry.leaf_hash) != entry.chain_hash:
            return _broken(entry, count, "chain hash does not link to the previous entry")
        prev, last_seq = entry.chain_hash, entry.seq
        chain[entry.seq] = prev
    checkpoints = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)).all()
    for cp in checkpoints:
        statement = _checkpoint_statement(
            seq=cp.seq, chain_hash=cp.chain_hash, signed_at=cp.signed_at, issuer=issuer
        )
        problem = _signature_problem(public_keys, cp.key_id, cp.signature, statement)
        if problem is not None:
            return VerifyResult(False, count, len(checkpoints), cp.seq, None, f"checkpoint {problem}")
        expected = chain.get(cp.seq, gone.anchors.get(cp.seq))
        if expected is None and gone.covers(cp.seq, cp.seq):
            continue  # its entry was dropped (and signed for) by retention
        if expected != cp.chain_hash:
            return VerifyResult(
                False, count, len(checkpoints), cp.seq, None, "checkpoint does not match the chain"
            )
    return VerifyResult(True, count, len(checkpoints), dropped=gone.dropped)


def _broken(entry: AuditEntry, count: int, reason: str) -> VerifyResult:
    return VerifyResult(False, count, 0, entry.seq, entry.id, reason)
