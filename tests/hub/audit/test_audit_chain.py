"""The hash-chained audit log: sealing, verifying, and catching every kind of tampering."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, delete, func, select, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from hub.audit import service as audit
from hub.auth.tokens import TokenKeys
from hub.cli import app as cli
from hub.config import development_signing_key
from hub.models import AuditCheckpoint, AuditEntry
from hub.orgs import service as orgs
from protocol.encoding import b64url_encode
from protocol.models.common import OrgKind
from protocol.models.orgs import OrganizationCreate
from tests.conftest import TEST_ISSUER
from tests.hub.asserts import assert_error
from tests.hub.conftest import Actor, one_line

KEY = development_signing_key()  # the key the test hub signs with
PUBLIC_KEYS = TokenKeys(KEY, issuer=TEST_ISSUER).public_keys
KEY_ID = next(iter(PUBLIC_KEYS))


def write_entries(db: Session, count: int) -> list[AuditEntry]:
    """``count`` more audited writes, as a real request would make them; returns every entry so far."""
    for _ in range(count):
        data = OrganizationCreate(name=f"audited-{uuid.uuid4().hex[:12]}", kind=OrgKind.SUPPLIER)
        orgs.create_organization(db, actor="test", data=data)
    db.flush()
    return list(db.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def seal(db: Session) -> int:
    sealed = audit.seal(db, signing_key=KEY, key_id=KEY_ID, issuer=TEST_ISSUER)
    db.expire_all()  # the sealer writes set-based, past the session: read back what it wrote
    return sealed


def verify(db: Session) -> audit.VerifyResult:
    db.expire_all()  # read what the database holds, not what the session remembers
    return audit.verify(db, public_keys=PUBLIC_KEYS, issuer=TEST_ISSUER)


def entry_at(db: Session, seq: int) -> AuditEntry:
    return db.scalars(select(AuditEntry).where(AuditEntry.seq == seq)).one()


# --- the service ----------------------------------------------------------------------------------------------


def test_seal_then_verify(db: Session) -> None:
    entries = write_entries(db, 3)
    assert [e.seq for e in entries] == [None, None, None]

    assert seal(db) == 3

    assert [e.seq for e in entries] == [1, 2, 3]
    assert all(e.chain_hash and len(e.chain_hash) == 64 for e in entries)
    assert len({e.chain_hash for e in entries}) == 3
    result = verify(db)
    assert result.ok, result
    assert (result.entries, result.checkpoints, result.first_broken_seq) == (3, 1, None)
    checkpoint = db.scalars(select(AuditCheckpoint)).one()
    assert (checkpoint.seq, checkpoint.chain_hash) == (3, entries[-1].chain_hash)


def test_sealing_again_adds_nothing_and_new_entries_extend_the_chain(db: Session) -> None:
    write_entries(db, 2)
    seal(db)
    head = entry_at(db, 2).chain_hash

    assert seal(db) == 0
    assert db.scalar(select(func.count()).select_from(AuditCheckpoint)) == 1

    write_entries(db, 1)
    assert verify(db).ok  # an unsealed entry is checked against its own leaf hash already
    assert seal(db) == 1
    assert entry_at(db, 2).chain_hash == head
    result = verify(db)
    assert result.ok and (result.entries, result.checkpoints) == (3, 2)


def test_tampered_entry_data_is_named(db: Session) -> None:
    entries = write_entries(db, 3)
    seal(db)

    db.execute(
        update(AuditEntry).where(AuditEntry.seq == 2).values(data={"name": "someone else", "kind": "oem"})
    )

    result = verify(db)
    assert not result.ok
    assert (result.first_broken_seq, result.first_broken_id) == (2, entries[1].id)
    assert result.reason == "content does not match its leaf hash"


def test_tampered_entry_with_a_recomputed_leaf_breaks_the_link(db: Session) -> None:
    # A forger who also rewrites the leaf hash still cannot make the chain link without rewriting every
    # later entry and the signed checkpoint.
    write_entries(db, 3)
    seal(db)
    forged = entry_at(db, 2)
    forged.actor = "client:innocent"
    forged.leaf_hash = audit._leaf_hash(forged)
    db.flush()

    result = verify(db)
    assert not result.ok
    assert result.first_broken_seq == 2
    assert result.reason == "chain hash does not link to the previous entry"


@pytest.mark.parametrize("column", ["action", "actor", "subject_id"])
def test_every_field_is_covered_by_the_leaf(db: Session, column: str) -> None:
    write_entries(db, 2)
    seal(db)
    db.execute(update(AuditEntry).where(AuditEntry.seq == 1).values({column: "tampered"}))
    result = verify(db)
    assert not result.ok and result.first_broken_seq == 1


def test_deleted_entry_is_a_sequence_gap(db: Session) -> None:
    entries = write_entries(db, 3)
    seal(db)

    db.execute(delete(AuditEntry).where(AuditEntry.seq == 2))

    result = verify(db)
    assert not result.ok
    assert (result.first_broken_seq, result.first_broken_id) == (3, entries[2].id)
    assert result.reason == "sequence gap: expected 2"


def test_truncating_the_tail_contradicts_the_checkpoint(db: Session) -> None:
    write_entries(db, 3)
    seal(db)
    db.execute(delete(AuditEntry).where(AuditEntry.seq == 3))
    result = verify(db)
    assert not result.ok
    assert result.first_broken_seq == 3
    assert result.reason == "checkpoint does not match the chain"


def test_tampered_checkpoint_signature_is_detected(db: Session) -> None:
    write_entries(db, 2)
    seal(db)
    forged = b64url_encode(KEY.sign(b"something else"))

    db.execute(update(AuditCheckpoint).where(AuditCheckpoint.seq == 2).values(signature=forged))

    result = verify(db)
    assert not result.ok
    assert result.first_broken_seq == 2
    assert result.reason == "checkpoint signature is invalid"


def test_checkpoint_signed_for_another_issuer_is_detected(db: Session) -> None:
    write_entries(db, 1)
    audit.seal(db, signing_key=KEY, key_id=KEY_ID, issuer="https://other-hub.example")
    result = verify(db)
    assert not result.ok and result.reason == "checkpoint signature is invalid"


# --- the API --------------------------------------------------------------------------------------------------


def test_api_verify_seals_and_reports_ok(db: Session, operator: Actor, oem: Actor) -> None:
    response = operator.post("/v1/audit/verify")

    assert response.status_code == 200, response.text
    body = response.json()
    total = db.scalar(select(func.count()).select_from(AuditEntry)) or 0
    assert body["ok"] is True
    assert body["entries"] == total and total >= 4  # two organizations and their clients
    assert body["sealed_now"] == total
    assert (body["checkpoints"], body["first_broken_seq"], body["reason"]) == (1, None, "")
    assert db.scalar(select(func.count()).where(AuditEntry.seq.is_(None))) == 0


def test_api_verify_names_a_tampered_entry(db: Session, operator: Actor) -> None:
    assert operator.post("/v1/audit/verify").json()["ok"] is True
    db.execute(update(AuditEntry).where(AuditEntry.seq == 1).values(actor="client:someone-else"))
    db.commit()

    body = operator.post("/v1/audit/verify").json()

    assert body["ok"] is False
    assert body["first_broken_seq"] == 1
    assert body["first_broken_id"] == entry_at(db, 1).id
    assert body["reason"] == "content does not match its leaf hash"


def test_api_verify_needs_operator_admin(db: Session, oem: Actor) -> None:
    response = oem.post("/v1/audit/verify")
    assert_error(response, 403, "InsufficientScope", detail="operator:admin")
    # Refused before doing anything: nothing was sealed.
    assert db.scalar(select(func.count()).where(AuditEntry.seq.is_not(None))) == 0
    assert db.scalar(select(func.count()).select_from(AuditCheckpoint)) == 0


# --- the CLI --------------------------------------------------------------------------------------------------


def test_cli_audit_verify_passes_then_names_the_tampered_entry(cli_database: str) -> None:
    runner = CliRunner()
    for name in ("Aurora Motors", "Kessler"):
        created = runner.invoke(cli, ["org", "create", "--name", name, "--kind", "supplier"])
        assert created.exit_code == 0, created.output

    intact = runner.invoke(cli, ["audit", "verify"])

    assert intact.exit_code == 0, intact.output
    assert "audit chain intact: 2 entries (2 sealed now), 1 signed checkpoints" in one_line(intact.stdout)

    engine = create_engine(cli_database)
    try:
        with engine.begin() as connection:
            connection.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(data={"name": "Forged"}))
            entry_id = connection.scalar(select(AuditEntry.id).where(AuditEntry.seq == 2))
    finally:
        engine.dispose()

    broken = runner.invoke(cli, ["audit", "verify"])

    assert broken.exit_code == 1, broken.output
    message = one_line(broken.stderr)
    assert f"audit chain broken at entry seq=2 id={entry_id}" in message
    assert "content does not match its leaf hash" in message


def test_checkpoints_signed_before_a_key_rotation_still_verify(db: Session) -> None:
    """After rotating the hub key, the old key's public half keeps old checkpoints verifiable."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    write_entries(db, 2)
    seal(db)
    new_key = Ed25519PrivateKey.generate()
    rotated = TokenKeys(new_key, issuer=TEST_ISSUER, previous=[KEY.public_key()])
    write_entries(db, 1)
    audit.seal(db, signing_key=new_key, key_id=rotated.key_id, issuer=TEST_ISSUER)
    assert audit.verify(db, public_keys=rotated.public_keys, issuer=TEST_ISSUER).ok
    forgotten = TokenKeys(new_key, issuer=TEST_ISSUER).public_keys
    result = audit.verify(db, public_keys=forgotten, issuer=TEST_ISSUER)
    assert not result.ok and "unknown key" in result.reason
