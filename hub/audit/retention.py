"""Before retention drops audit entries: check them, and sign what is dropped so the rest still verifies.

The dropped set is every entry a predicate names (a month's partition, or on SQLite ``at`` before a boundary).
Sequence numbers follow commit order, not ``at``, so the set need not be one range: a write that took its time
stamp before midnight and committed after a later one was sealed after it. The checkpoint therefore lists each
dropped run of places and, for the last place of each run, the chain hash there: the entry after a run links to
it, and ``verify`` accepts a gap only where a signed run covers it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from hub.audit import service
from hub.db import take_turn
from hub.models import AuditEntry, AuditRetentionCheckpoint
from protocol.encoding import b64url_encode


@dataclass(frozen=True)
class Refusal:
    """Why entries are not dropped this round (retried next round)."""

    reason: str


def sign_over_dropped(
    session: Session,
    *,
    dropped: ColumnElement[bool],
    boundary: datetime,
    now: datetime,
    signing_key: Ed25519PrivateKey,
    key_id: str,
    issuer: str,
) -> AuditRetentionCheckpoint | Refusal | None:
    """Verify the entries ``dropped`` names and sign a retention checkpoint over them, in the caller's transaction,
    which then removes them. None when there are none; a :class:`Refusal` when they must not go (yet)."""
    take_turn(session, service._SEALER_LOCK_ID)  # the sealer must not extend the chain meanwhile
    unsealed = session.scalar(
        select(func.count()).select_from(AuditEntry).where(dropped, AuditEntry.seq.is_(None))
    )
    if unsealed:
        return Refusal(f"{unsealed} entries are not sealed yet")
    anchors_before = {
        int(seq): chain
        for earlier in session.scalars(select(AuditRetentionCheckpoint.anchors))
        for seq, chain in earlier.items()
    }
    ranges: list[list[int]] = []
    anchors: dict[str, str] = {}
    count, last_seq, prev = 0, -1, service.GENESIS
    rows = session.execute(select(AuditEntry).where(dropped).order_by(AuditEntry.seq)).scalars()
    for entry in rows.yield_per(2000):
        seq = int(entry.seq or 0)
        if service._leaf_hash(entry) != entry.leaf_hash:
            return Refusal(f"entry seq={seq} does not match its leaf hash: not dropping a broken chain")
        if seq != last_seq + 1:
            if ranges:
                anchors[str(last_seq)] = prev
            ranges.append([seq, seq])
            prev = _chain_before(session, seq, anchors_before)
        if service._chain_hash(seq, prev, entry.leaf_hash) != entry.chain_hash:
            return Refusal(f"entry seq={seq} does not link to the one before: not dropping a broken chain")
        ranges[-1][1] = seq
        prev, last_seq, count = str(entry.chain_hash), seq, count + 1
    if not count:
        return None
    anchors[str(last_seq)] = prev
    checkpoint = AuditRetentionCheckpoint(
        boundary=boundary,
        dropped_entries=count,
        dropped_through=max(end for _start, end in ranges),
        ranges=ranges,
        anchors=anchors,
        signed_at=now,
        key_id=key_id,
    )
    statement = service.retention_statement(
        boundary=boundary,
        dropped_entries=count,
        dropped_through=checkpoint.dropped_through,
        ranges=ranges,
        anchors=anchors,
        signed_at=now,
        issuer=issuer,
    )
    checkpoint.signature = b64url_encode(signing_key.sign(statement))
    session.add(checkpoint)
    session.flush()
    return checkpoint


def _chain_before(session: Session, seq: int, anchors: dict[int, str]) -> str:
    """The chain hash at ``seq - 1``: the kept entry there, an earlier retention's anchor, or the genesis."""
    if seq == 1:
        return service.GENESIS
    kept = session.scalar(select(AuditEntry.chain_hash).where(AuditEntry.seq == seq - 1))
    if kept is not None:
        return str(kept)
    return anchors.get(seq - 1, "")  # "" links nothing: the entry is refused as not linking
