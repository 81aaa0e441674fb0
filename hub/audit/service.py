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
from hub.models import AuditCheckpoint, AuditEntry
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
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.chain_hash)
        .where(AuditEntry.seq.is_not(None))
        .order_by(AuditEntry.seq.desc())
        .limit(1)
    ).first()
    if last is None:
        return 0, GENESIS
    return int(last[0] or 0), str(last[1])


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


def verify(session: Session, *, public_keys: dict[str, Ed25519PublicKey], issuer: str) -> VerifyResult:
    """Recompute every leaf and link, and check every checkpoint; name the first entry that does not hold."""
    prev, expected_seq, count = GENESIS, 0, 0
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
        expected_seq += 1
        if entry.seq != expected_seq:
            return _broken(entry, count, f"sequence gap: expected {expected_seq}")
        if _chain_hash(entry.seq, prev, entry.leaf_hash) != entry.chain_hash:
            return _broken(entry, count, "chain hash does not link to the previous entry")
        prev = entry.chain_hash
        chain[entry.seq] = prev
    checkpoints = session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.seq)).all()
    for cp in checkpoints:
        statement = _checkpoint_statement(
            seq=cp.seq, chain_hash=cp.chain_hash, signed_at=cp.signed_at, issuer=issuer
        )
        public_key = public_keys.get(cp.key_id)
        if public_key is None:
            return VerifyResult(
                False, count, len(checkpoints), cp.seq, None, f"checkpoint signed by unknown key {cp.key_id}"
            )
        try:
            public_key.verify(b64url_decode(cp.signature), statement)
        except (InvalidSignature, ValueError):
            return VerifyResult(
                False, count, len(checkpoints), cp.seq, None, "checkpoint signature is invalid"
            )
        if chain.get(cp.seq) != cp.chain_hash:
            return VerifyResult(
                False, count, len(checkpoints), cp.seq, None, "checkpoint does not match the chain"
            )
    return VerifyResult(True, count, len(checkpoints))


def _broken(entry: AuditEntry, count: int, reason: str) -> VerifyResult:
    return VerifyResult(False, count, 0, entry.seq, entry.id, reason)
